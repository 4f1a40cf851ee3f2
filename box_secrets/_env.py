"""Every environment variable box-secrets reads, with its default and meaning.

The one list: ``docs/environment.md`` is generated from it (``python -m
box_secrets._env``) and a test checks both that the page is current and that
the code reads no variable missing here.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["VARIABLES", "Variable", "markdown"]


class Variable(NamedTuple):
    name: str
    default: str
    meaning: str


VARIABLES: tuple[Variable, ...] = (
    Variable("BOX_API_BASE_URL", "https://api.box.com", "Box's API base URL (point it at the emulator to test)"),
    Variable("BOX_SECRETS_STORE", "", "the store URI the CLI and `access_token()` use when none is given"),
    Variable("BOX_SECRETS_STORES", "", "the Lambda handler: the store URIs it serves (space or newline separated, beside `BOX_SECRETS_STORE`); an event may name only these"),
    Variable("BOX_SECRETS_CONFIG", "", "a config file path `access_token()` uses when no store is named"),
    Variable("BOX_SECRETS_NOTIFY", "log:", "where rotation tells a person what to do (`log:`, `https://...`, `sns://ARN`)"),
    Variable("BOX_SECRETS_CACHE_DIR", "", "share tokens between processes through this 0700 directory (CLI; the same as `BOX_SECRETS_TOKEN_CACHE=dir:PATH`)"),
    Variable("BOX_SECRETS_TOKEN_CACHE", "", "the shared token cache for `TokenProvider`, `access_token()` (your Lambda functions too), the CLI and the Terraform program; never for the rotation steps: `dir:/path`, `redis://HOST:PORT/DB`, `rediss://...` or `dynamodb://TABLE?region=&endpoint_url=`"),
    Variable("BOX_SECRETS_REDIS_USERNAME", "", "the Redis ACL user for a `redis://`/`rediss://` token cache (never in the URI)"),
    Variable("BOX_SECRETS_REDIS_PASSWORD", "", "the Redis password for a `redis://`/`rediss://` token cache (never in the URI)"),
    Variable("BOX_SECRETS_STORE_TTL", "300", "seconds a process keeps a store's current key before reading it again"),
    Variable("BOX_SECRETS_MAX_ATTEMPTS", "5", "attempts per request to Box or Vault (1 to 20)"),
    Variable("BOX_SECRETS_DEADLINE", "60", "seconds a request to Box or Vault may take, retries included (1 to 3600)"),
    Variable("BOX_SECRETS_LOCK_TIMEOUT", "30", "seconds a file-store writer waits for the lock"),
    Variable("BOX_SECRETS_VAULT_JWT_PATH", "/var/run/secrets/kubernetes.io/serviceaccount/token", "the token file for Vault `auth=kubernetes` (and `auth=jwt` without `BOX_SECRETS_VAULT_JWT`)"),
    Variable("BOX_SECRETS_VAULT_JWT", "", "the JWT for Vault `auth=jwt` (e.g. a CI runner's OIDC ID token); else read from `BOX_SECRETS_VAULT_JWT_PATH`"),
    Variable("BOX_SECRETS_VAULT_AUTH", "", "the Vault auth method when the URI has no `auth=` (default `token`; `aws` inside Lambda without `VAULT_TOKEN`)"),
    Variable("BOX_SECRETS_VAULT_ROLE", "", "the Vault role for `auth=aws`, `kubernetes` or `jwt` when the URI has no `role=` (for a signer URI read from a store, this wins over its `role=`)"),
    Variable("BOX_SECRETS_SECRETS_EXTENSION", "", "`0` never reads Secrets Manager through the Lambda extension; `1` also outside Lambda; unset: inside Lambda"),
    Variable("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", "2773", "the port of AWS's Parameters and Secrets Lambda Extension"),
    Variable("AWS_DEFAULT_REGION", "", "the AWS region when neither the URI, an ARN nor `AWS_REGION` names one (botocore reads only this one)"),
    Variable("AWS_REGION", "", "the AWS region when neither the URI nor an ARN names one (before `AWS_DEFAULT_REGION`, as the AWS SDKs and CLI v2 read it); set by Lambda, where the secrets extension serves only stores in this region"),
    Variable("AWS_ACCESS_KEY_ID", "", "with `AWS_SECRET_ACCESS_KEY`: the credentials the DynamoDB token cache signs with (set by Lambda); without them it asks botocore's chain (profiles, SSO, instance roles)"),
    Variable("AWS_SECRET_ACCESS_KEY", "", "see `AWS_ACCESS_KEY_ID`"),
    Variable("AWS_SESSION_TOKEN", "", "set by Lambda; sent to the secrets extension as `X-Aws-Parameters-Secrets-Token`, and with the DynamoDB token cache's signed requests"),
    Variable("BOX_SECRETS_METRICS", "1", "`0` stops the Lambda handler's CloudWatch embedded-metric lines"),
    Variable("BOX_SECRETS_ALLOW_INSECURE_HTTP", "", "`1` allows `http://` to remote hosts (warned every time; avoid)"),
    Variable("BOX_SECRETS_UNSAFE_THIRD_PARTY_DEBUG", "", "`1` with `-vv` also logs botocore, urllib3 and hvac debug output (redacted; do not share)"),
    Variable("BOX_SECRETS_DEBUG", "", "`1` shows the traceback of an unexpected error in the CLI"),
    Variable("BOX_SECRETS_TEST_HOOKS", "", "`1` lets the CLI honour `BOX_SECRETS_CRASH_AT` (tests only)"),
    Variable("BOX_SECRETS_CRASH_AT", "", "tests only: crash points to kill the CLI at, like `store.commit:after#2`"),
    Variable("VAULT_ADDR", "", "the Vault address when the store URI has no `addr=`; the only Vault a Transit signer named in a store may use (else a loopback one)"),
    Variable("VAULT_TOKEN", "", "the Vault token for `auth=token` (else `~/.vault-token`)"),
    Variable("VAULT_NAMESPACE", "", "the Vault namespace when the URI has no `namespace=`"),
    Variable("VAULT_CACERT", "", "a PEM bundle to verify Vault's TLS certificate; a signer URI read from a store may name only this one as `ca_cert`"),
    Variable("VAULT_ROLE_ID", "", "the AppRole role ID for `auth=approle`"),
    Variable("VAULT_SECRET_ID", "", "the AppRole secret ID for `auth=approle`"),
    Variable("VAULT_EMULATOR_ROOT_TOKEN", "", "the root token `box-secrets vault-emulator` accepts (default: random)"),
    Variable("AWS_MAX_ATTEMPTS", "5", "botocore's attempts per AWS call, 1 to 20"),
    Variable("AWS_ENDPOINT_URL_KMS", "", "the only KMS endpoint a signer named in a store may use (else AWS_ENDPOINT_URL, else a loopback one); judged like every URL (https, or http to loopback)"),
    Variable("AWS_ENDPOINT_URL_SECRETS_MANAGER", "", "Secrets Manager's endpoint (else AWS_ENDPOINT_URL); judged like every URL"),
    Variable("AWS_ENDPOINT_URL_DYNAMODB", "", "DynamoDB's endpoint for a `dynamodb://` token cache without `endpoint_url=` (else AWS_ENDPOINT_URL); judged like every URL"),
    Variable("AWS_ENDPOINT_URL_SNS", "", "SNS's endpoint for `--notify sns://` (else AWS_ENDPOINT_URL); judged like every URL"),
    Variable("AWS_ENDPOINT_URL", "", "botocore's endpoint for every AWS service; also what a KMS signer's stored endpoint_url must equal; judged like every URL"),
    Variable("AWS_PROFILE", "", "the AWS profile; a signer URI read from a store may name only this one"),
    Variable("AWS_LAMBDA_FUNCTION_NAME", "", "set by Lambda; names the actor in the rotation history"),
)  # fmt: skip


def markdown() -> str:
    """The table ``docs/environment.md`` holds."""
    lines = [
        "# Environment variables",
        "",
        "Generated from `box_secrets/_env.py` (`python -m box_secrets._env > docs/environment.md`);",
        "a test fails when the two differ. AWS credentials and region come from boto3's usual",
        "chain and are not listed.",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for var in VARIABLES:
        default = f"`{var.default}`" if var.default else ""
        lines.append(f"| `{var.name}` | {default} | {var.meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")  # noqa: T201
