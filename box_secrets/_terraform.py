"""``box-secrets terraform <operation>``: a program for Terraform's ``external`` data source.

Terraform's external provider (hashicorp/terraform-provider-external,
``internal/provider/data_source.go``) runs the program without a shell,
writes one JSON object of strings to its stdin, and requires exactly one
JSON object whose values are all strings on stdout; on a non-zero exit it
shows stderr to the person. So: stdout carries that object and nothing else,
ever (anything else printed goes to stderr); an error is one sentence on
stderr with exit code 2 (bad query) or 1 (anything else). No operation
changes anything: plans run data sources every time.

- ``status``: ``{"store": URI}`` → where the store stands (no secret).
- ``public-key``: ``{"store": URI, "role": "active"|"pending"}`` → a public key.
- ``token``: ``{"store": URI, "scopes": "a b", "resource"?, "shared_link"?,
  "user_id"?}`` or ``"allow_full_scope": "true"`` → an access token, which then
  lands in Terraform state in plain text. ``token --token-cache URI`` (or
  ``BOX_SECRETS_TOKEN_CACHE``) shares it through a token cache, so every plan
  does not mint one. The cache is named by the program's arguments or the
  environment, never by the query: a query must not choose where tokens go.
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

__all__ = ["OPERATIONS", "main", "operation_help"]

OPERATIONS = ("status", "public-key", "token")
#: A query is a few short strings; anything larger is not one.
_MAX_QUERY = 64 * 1024
_FIELDS = {
    "status": {"store"},
    "public-key": {"store", "role"},
    "token": {"store", "scopes", "resource", "shared_link", "user_id", "allow_full_scope"},
}


#: What each operation answers (`box-secrets terraform OPERATION --help`).
_ANSWERS = {
    "status": "state, next_action, person_needed, key_age_days, signer, and for the active, "
    "pending and previous keys their key_id, fingerprint_sha256 (active and pending also "
    "public_key_pem; active created_at); empty strings where absent. No secret.",
    "public-key": "role, key_id, fingerprint_sha256, public_key_pem. No secret.",
    "token": "access_token, expires_at (RFC 3339), restricted_to (JSON). The token lands in "
    "Terraform state in plain text: name the narrowest scopes; root_readonly, "
    'root_readwrite and manage_* need allow_full_scope = "true".',
}
_EXAMPLES = {
    "status": 'echo \'{"store": "file:box.json"}\' | box-secrets terraform status',
    "public-key": 'echo \'{"store": "file:box.json", "role": "pending"}\' | '
    "box-secrets terraform public-key",
    "token": 'echo \'{"store": "file:box.json", "scopes": "item_preview"}\' | '
    "box-secrets terraform token",
}


def operation_help(operation: str) -> str | None:
    """The help of one operation: its query keys, its answer, an example (None: unknown)."""
    if operation not in OPERATIONS:
        return None
    keys = ", ".join(sorted(_FIELDS[operation]))
    return (
        f"Usage: box-secrets terraform {operation}  (a JSON query on stdin)\n\n"
        f"  Query keys (strings): {keys}; store is required.\n"
        f"  Answer (one JSON object of strings on stdout): {_ANSWERS[operation]}\n\n"
        f"  Example:\n    {_EXAMPLES[operation]}\n\n"
        "  See `box-secrets help terraform`."
    )


class QueryError(Exception):
    """The query is wrong: exit code 2."""


def _query(stdin: TextIO, operation: str) -> dict[str, str]:
    text = stdin.read(_MAX_QUERY + 1)
    if len(text) > _MAX_QUERY:
        raise QueryError("the query on stdin is larger than 64 KiB; send a small JSON object")
    if not text.strip():
        raise QueryError(
            'stdin is empty; Terraform sends the query, e.g. query = { store = "file:box.json" }'
        )
    try:
        query = json.loads(text)
    except (ValueError, RecursionError):
        raise QueryError("stdin is not JSON; Terraform sends the query as a JSON object") from None
    if not isinstance(query, dict):
        raise QueryError('the query must be a JSON object of strings, like {"store": "..."}')
    bad = sorted(k for k, v in query.items() if not isinstance(v, str))
    if bad:
        raise QueryError(f"query values must be strings; {bad[0]!r} is not")
    for key, value in query.items():
        try:
            (key + value).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape
            raise QueryError("the query holds text that is not valid Unicode; retype it") from None
    unknown = sorted(set(query) - _FIELDS[operation])
    if unknown:
        known = ", ".join(sorted(_FIELDS[operation]))
        raise QueryError(f"query key {unknown[0]!r} is not known to {operation} (known: {known})")
    if not query.get("store", "").strip():
        raise QueryError(
            'the query needs "store", the store URI (file:..., aws-sm://..., vault://...)'
        )
    return query


def _status(query: dict[str, str]) -> dict[str, str]:
    from box_secrets.rotation._views import status_view
    from box_secrets.rotation._words import Words
    from box_secrets.stores import open_store

    store = open_store(query["store"])
    record = store.load().record  # the record holds the public data: no key is decrypted
    import time

    now = time.time()
    view = status_view(record, Words(store).next_action(record, now), now)
    out = {
        "state": view["state"],
        "next_action": view["next_action"],
        "person_needed": "true" if view["person_needed"] else "false",
        "key_age_days": "" if view["key_age_days"] is None else f"{view['key_age_days']:g}",
    }
    for role, key in (("active", view["active"]), ("pending", view["pending"])):
        out[f"{role}_key_id"] = (key["key_id"] or "") if key else ""
        out[f"{role}_fingerprint_sha256"] = key["fingerprint_sha256"] if key else ""
        out[f"{role}_public_key_pem"] = key["public_key_pem"] if key else ""
    previous = view["previous"]
    out["previous_key_id"] = (previous["key_id"] or "") if previous else ""
    out["active_created_at"] = (view["active"]["created_at"] or "") if view["active"] else ""
    # Where the keys live: pem (in the store), aws-kms or vault-transit.
    out["signer"] = record.signer.partition("://")[0] if record.signer else "pem"
    return out


def _public_key(query: dict[str, str]) -> dict[str, str]:
    from box_secrets.stores import open_store

    role = query.get("role", "active")
    if role not in ("active", "pending"):
        raise QueryError(f'role must be "active" or "pending", not {role[:20]!r}')
    record = open_store(query["store"]).load().record
    key = record.active if role == "active" else record.pending
    if key is None:
        raise QueryError(f"the store has no {role} key; `box-secrets status` says why")
    return {
        "role": role,
        "key_id": key.key_id or "",
        "fingerprint_sha256": key.fingerprint,
        "public_key_pem": key.public_key_pem,
    }


def _token(query: dict[str, str], token_cache: str | None = None) -> dict[str, str]:
    from box_secrets.tokens import TokenProvider

    scopes = query.get("scopes", "").split()
    full = query.get("allow_full_scope", "false")
    if full not in ("true", "false"):
        raise QueryError('allow_full_scope must be "true" or "false"')
    if not scopes and full != "true":
        raise QueryError(
            "name the scopes the token needs, space-separated as Box writes them (scopes = "
            '"item_preview item_download"), or set allow_full_scope = "true": the token '
            "lands in Terraform state in plain text"
        )
    broad = sorted(s for s in scopes if s in _BROAD_SCOPES or s.startswith("manage_"))
    if broad and full != "true":
        raise QueryError(
            f"scope {broad[0]} reaches the whole account (not one item), so the token is in "
            'effect full scope: set allow_full_scope = "true" too if that is meant, since '
            "the token lands in Terraform state in plain text"
        )
    if (query.get("resource") or query.get("shared_link")) and not scopes:
        raise QueryError("resource and shared_link restrict a downscoped token: name its scopes")
    if token_cache is not None:
        provider = TokenProvider(query["store"], token_cache=token_cache)
    else:
        provider = TokenProvider(query["store"])  # BOX_SECRETS_TOKEN_CACHE, if set
    token = provider.get_token(
        as_user=query.get("user_id") or None,
        scopes=scopes or None,
        resource=query.get("resource") or None,
        shared_link=query.get("shared_link") or None,
    )
    return {
        "access_token": token.access_token,
        "expires_at": token.expires_at_rfc3339,
        "restricted_to": json.dumps(token.restricted_to, sort_keys=True),
    }


#: Scopes that reach a whole account rather than items: a token limited to these is in
#: effect a full-scope one (Box's scopes guide, https://developer.box.com/guides/api-calls/permissions-and-errors/scopes/:
#: root_readonly and root_readwrite read or write all content; manage_* administer).
_BROAD_SCOPES = frozenset({"root_readonly", "root_readwrite"})

_RUN = {"status": _status, "public-key": _public_key, "token": _token}


def main(argv: list[str]) -> int:
    """Run one operation; returns the exit code. Only the result ever reaches stdout."""
    out = sys.stdout
    sys.stdout = sys.stderr  # a stray print, banner or warning can never corrupt the result
    try:
        return _main(argv, out)
    finally:
        sys.stdout = out


def _main(argv: list[str], out: TextIO) -> int:
    from box_secrets.errors import BoxSecretsError, InputError

    try:
        argv, token_cache = _token_cache_arg(argv)
        if len(argv) != 1 or argv[0] not in OPERATIONS:
            given = argv[0][:40] if argv else "nothing"
            raise QueryError(
                f"box-secrets terraform needs one operation ({', '.join(OPERATIONS)}), "
                f"not {given!r}"
            )
        operation = argv[0]
        query = _query(sys.stdin, operation)
        if token_cache is not None:
            if operation != "token":
                raise QueryError("--token-cache is for the token operation only")
            result = _token(query, token_cache)
        else:
            result = _RUN[operation](query)
    except (QueryError, InputError) as exc:
        return _fail(str(exc), 2)
    except BoxSecretsError as exc:
        return _fail(str(exc), exc.exit_code if exc.exit_code != 3 else 1)
    except Exception as exc:  # a bug: still one line, never a traceback into a plan
        import os

        if os.environ.get("BOX_SECRETS_DEBUG") == "1":
            import traceback

            traceback.print_exc(file=sys.stderr)
        return _fail(f"unexpected {type(exc).__name__}; run it again with BOX_SECRETS_DEBUG=1", 1)
    assert all(isinstance(v, str) for v in result.values())
    out.write(json.dumps(result, sort_keys=True) + "\n")
    out.flush()
    return 0


def _token_cache_arg(argv: list[str]) -> tuple[list[str], str | None]:
    """``argv`` without ``--token-cache URI`` (or ``--token-cache=URI``), and the URI."""
    rest: list[str] = []
    found: str | None = None
    args = iter(argv)
    for arg in args:
        name, eq, value = arg.partition("=")
        if name != "--token-cache":
            rest.append(arg)
            continue
        if not eq:
            value = next(args, "")
        if found is not None or not value:
            raise QueryError("give --token-cache once, with a URI such as dynamodb://TABLE")
        found = value
    return rest, found


def _fail(message: str, code: int) -> int:
    from box_secrets._urls import clean_text

    sys.stderr.write(f"box-secrets terraform: {clean_text(message)}\n")
    return code
