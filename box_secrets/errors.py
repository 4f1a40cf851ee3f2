"""The exception tree of box-secrets.

Every error the package raises on purpose derives from :class:`BoxSecretsError`.
Messages are one sentence saying what is wrong and what to do, and never hold
a secret value (private key, passphrase, client secret, access token)::

    BoxSecretsError
    ├── InputError                 bad input from a person; CLI exit code 2
    │   ├── ConfigError            a Box app config is malformed (names the field)
    │   ├── StoreURIError          a store URI cannot be parsed
    │   ├── MissingExtraError      the backend's optional dependency is absent
    │   └── InvalidTransitionError a rotation command that makes no sense now
    ├── BoxError                   talking to Box failed
    │   ├── BoxAuthError           Box refused a token request (error, error_description)
    │   │   └── KeyRejectedError   Box does not know the key ID or the signature failed
    │   ├── BoxUnavailableError    5xx, 429 or network trouble outlasted the retries
    │   └── BoxResponseError       Box answered something that is not what the API promises
    ├── StoreError                 a secret store failed
    │   ├── ConflictError          a write based on a stale read (nothing was changed)
    │   ├── StoreNotFoundError     the store holds nothing yet
    │   ├── NoActiveKeyError       the store has no active key yet (first key unregistered)
    │   ├── StoreAccessDeniedError permission denied by the backend
    │   ├── StoreUnavailableError  sealed, throttled, or unreachable
    │   └── StoreCorruptError      the stored value is not a Box config / record
    ├── SignerError                a remote signer (AWS KMS, Vault Transit) refused or failed
    │   └── SignerUnavailableError throttled, sealed or unreachable
    ├── NotifyError                a notification could not be delivered
    └── PersonNeededError          a step waits for a person at Box; CLI exit code 3

Third-party exceptions are translated at the edge with ``raise ... from exc``.
"""

from __future__ import annotations

__all__ = [
    "BoxAuthError",
    "BoxError",
    "BoxResponseError",
    "BoxSecretsError",
    "BoxUnavailableError",
    "ConfigError",
    "ConflictError",
    "InputError",
    "InvalidTransitionError",
    "KeyRejectedError",
    "MissingExtraError",
    "NoActiveKeyError",
    "NotifyError",
    "PersonNeededError",
    "SignerError",
    "SignerUnavailableError",
    "StoreAccessDeniedError",
    "StoreCorruptError",
    "StoreError",
    "StoreNotFoundError",
    "StoreURIError",
    "StoreUnavailableError",
]


class BoxSecretsError(Exception):
    """Base of every error box-secrets raises on purpose."""

    #: Exit code the CLI uses for this error: 1 runtime failure, 2 bad input.
    exit_code = 1


class InputError(BoxSecretsError):
    """The input is wrong; fixing the input fixes the problem."""

    exit_code = 2


class ConfigError(InputError):
    """A Box app config (Developer Console JSON) is malformed or unusable."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class StoreURIError(InputError):
    """A store URI cannot be parsed or names an unknown backend."""


class MissingExtraError(InputError):
    """The optional dependency a backend needs is not installed."""

    def __init__(self, extra: str, module: str) -> None:
        super().__init__(
            f"this store needs the {module!r} package, which is not installed; "
            f"run: pip install 'box-secrets[{extra}]'"
        )
        self.extra = extra


class InvalidTransitionError(InputError):
    """A rotation command that does not apply to the key's current state."""


class BoxError(BoxSecretsError):
    """Talking to Box failed."""


class BoxAuthError(BoxError):
    """Box refused a token request; carries Box's ``error`` and ``error_description``."""

    def __init__(self, message: str, *, status: int, error: str, error_description: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.error_description = error_description


class KeyRejectedError(BoxAuthError):
    """Box does not accept this key: unknown key ID (``kid``) or a signature mismatch."""


class BoxUnavailableError(BoxError):
    """Box kept answering 429/5xx, or could not be reached, until retries ran out."""


class BoxResponseError(BoxError):
    """Box answered with something the API does not promise (not JSON, missing fields)."""


class StoreError(BoxSecretsError):
    """A secret store failed."""


class ConflictError(StoreError):
    """Another writer changed the store since it was read; nothing was written."""


class StoreNotFoundError(StoreError):
    """The store holds no Box config yet."""


class NoActiveKeyError(StoreError):
    """The store is initialised but its first key has not been registered at Box yet."""


class StoreAccessDeniedError(StoreError):
    """The backend denied access (IAM, Vault policy, file permissions)."""


class StoreUnavailableError(StoreError):
    """The backend is sealed, throttling, or unreachable."""


class StoreCorruptError(StoreError):
    """The stored value is not a Box config or box-secrets record."""


class SignerError(BoxSecretsError):
    """A key held in AWS KMS or Vault Transit could not be used or managed there.

    Access denied, a missing or disabled key, a key of the wrong kind: the
    message names the key (never a secret) and what to change.
    """


class SignerUnavailableError(SignerError):
    """The signer is throttling, sealed, failing or unreachable.

    The token module retries it within its deadline when ``retry`` is True
    (throttling, 5xx, network); a sealed Vault is not retried.
    """

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


class NotifyError(BoxSecretsError):
    """A notification to a person could not be delivered."""


class PersonNeededError(BoxSecretsError):
    """A step cannot finish until a person acts in the Box Developer Console.

    Not a failure of box-secrets: a rotation Lambda's test step raises it while
    the pending key awaits registration, so the operator can tell "waiting for
    a person" from "broken" (docs/aws-lambda.md).
    """

    exit_code = 3
