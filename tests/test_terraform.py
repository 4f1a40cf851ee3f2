"""The Terraform modules and examples, with the real ``terraform`` binary.

Terraform runs offline from this machine's provider mirror (a CLI config
written here, never the user's). The modules are formatted, validated,
applied to a moto server with a real ``make lambda-zip`` package, checked
through boto3, used for a rotation through the handler, and destroyed. The
external example cannot be initialised offline (no ``hashicorp/external`` in
the mirror): it is parsed, and the program it calls is run with its query.
Where terraform or the mirror is missing these tests are skipped, and the
summary says why.

The apply is one test (apply, check, bootstrap, rotate, destroy): terraform
and its 700 MB provider make each step slow, and one test keeps the one apply
on one worker.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .helpers import pem_chunks
from .lambda_support import aws, holder, labels, start_rotation
from .terraform_docs import MODULES, blocks, render

ROOT = Path(__file__).resolve().parent.parent
TERRAFORM_DIR = ROOT / "terraform"
MIRROR = Path(os.environ.get("BOX_SECRETS_TF_MIRROR", "/opt/tf-plugins"))
BINARY = shutil.which("terraform")
AWS_SERVICES = (
    "iam",
    "sts",
    "lambda",
    "secretsmanager",
    "sns",
    "cloudwatch",
    "logs",
    "scheduler",
    "dynamodb",
)

pytestmark = [
    pytest.mark.skipif(BINARY is None, reason="no terraform binary on PATH: modules untested"),
    pytest.mark.skipif(
        not (MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir(),
        reason=f"no provider mirror at {MIRROR}: modules untested (BOX_SECRETS_TF_MIRROR)",
    ),
]


@pytest.fixture(scope="session")
def tf_env(tmp_path_factory) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Terraform's environment: our CLI config (the offline mirror, linked not copied)."""
    config = tmp_path_factory.mktemp("tf") / "cli.tfrc"
    config.write_text(
        f'plugin_cache_dir = "{MIRROR}"\n'
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{MIRROR}"\n'
        '    include = ["registry.terraform.io/hashicorp/*"]\n  }\n'
        '  direct { exclude = ["registry.terraform.io/hashicorp/*"] }\n}\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))}
    env.update(
        TF_CLI_CONFIG_FILE=str(config),
        TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE="true",  # the mirror is the cache
        TF_IN_AUTOMATION="1",
        CHECKPOINT_DISABLE="1",
    )
    return env


def tf(env: dict[str, str], cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        [str(BINARY), *args, "-no-color"] if args[0] != "fmt" else [str(BINARY), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, f"terraform {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_everything_is_formatted(tf_env) -> None:
    tf(tf_env, TERRAFORM_DIR, "fmt", "-check", "-recursive", "-diff")


def test_readmes_list_every_input_and_output() -> None:
    for module in MODULES:
        assert (module / "README.md").read_text() == render(module), (
            f"{module.name}/README.md is stale: run make terraform-docs"
        )


def test_every_variable_is_described_and_typed() -> None:
    for module in MODULES:
        for name, body in blocks(module / "variables.tf", "variable").items():
            assert body.get("description"), f"{module.name}: {name} has no description"
            assert body.get("type"), f"{module.name}: {name} has no type"
        for name, body in blocks(module / "outputs.tf", "output").items():
            assert body.get("description"), f"{module.name}: output {name} has no description"


def test_the_module_policy_is_the_documented_one() -> None:
    from .test_aws_lambda_iam import documented_policy

    documented = documented_policy()["Statement"][0]["Action"]
    main = (TERRAFORM_DIR / "modules" / "aws-secrets-manager-rotation" / "main.tf").read_text()
    block = main.split('sid = "RotateTheBoxSecret"')[1].split("]")[0]
    assert sorted(
        a.strip().strip('",') for a in block.split("[")[1].split() if a.strip()
    ) == sorted(documented)


def test_the_example_plans_against_moto_as_documented(
    tf_env, tmp_path, moto, lambda_package
) -> None:
    """docs/terraform.md's dry run: the example itself, its variables pointing at moto."""
    zip_path, _, _ = lambda_package
    example = tmp_path / "secrets-manager"
    shutil.copytree(TERRAFORM_DIR / "examples" / "secrets-manager", example)
    main = example / "main.tf"
    # An absolute local source: `//` marks the package root, so ../_function resolves.
    main.write_text(main.read_text().replace("../../modules/", f"{TERRAFORM_DIR}//modules/"))
    env = {**tf_env, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    tf(env, example, "init", "-input=false", "-backend=false")
    plan = tf(
        env, example, "plan", "-input=false",
        "-var", f"aws_endpoint_url={moto.url}",
        "-var", "region=us-east-1",
        "-var", "box_api_base_url=http://127.0.0.1:9",
        "-var", f"lambda_zip_path={zip_path}",
    )  # fmt: skip
    assert "box-secrets-example/box-app" in plan and "box-secrets-example-rotation" in plan
    tf(tf_env, example, "validate")


def test_the_external_example_runs_the_program_with_its_query(make_app, tmp_path) -> None:
    import hcl2

    from .rotation_support import new_rig
    from .terraform_docs import _unquote

    with (TERRAFORM_DIR / "examples" / "external-status" / "main.tf").open() as f:
        parsed = _unquote(hcl2.load(f))
    sources = {name: body for block in parsed["data"] for name, body in block["external"].items()}
    app = make_app()
    rig = new_rig(f"file:{tmp_path / 'box.json'}", lambda: app)
    env = {**os.environ, "BOX_API_BASE_URL": app.base_url}
    results = {}
    for name, body in sources.items():
        query = {k: (rig.uri if v == "var.store" else v) for k, v in body["query"].items()}
        program = body["program"]
        assert program[:2] == ["box-secrets", "terraform"]
        proc = subprocess.run(
            [shutil.which("box-secrets", path=os.path.dirname(os.sys.executable)), *program[1:]],
            input=json.dumps(query),
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        results[name] = json.loads(proc.stdout)
    assert results["box_status"]["state"] == "active"
    assert results["box_token"]["access_token"]
    text = json.dumps(results)
    assert app.client_secret not in text
    assert not any(chunk in text for chunk in pem_chunks(app.key.private_key_pem))


# -- apply and destroy against moto ---------------------------------------------------------


ROOT_MODULE = """
variable "enable_rotation" {{
  type    = bool
  default = false
}}

provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  endpoints {{
{endpoints}
  }}
}}

module "sm" {{
  source                  = "{modules}/aws-secrets-manager-rotation"
  name                    = "{secret}"
  function_name           = "{prefix}-rotation"
  lambda_zip_path         = "{zip}"
  enable_rotation         = var.enable_rotation
  rotation_days           = 30
  recovery_window_in_days = 0
  notification_emails     = ["ops@example.com"]
  box_api_base_url        = "{box}"
  kms_signers             = [{{ client_id = "abc123", alias = "alias/box-prod" }}]
  token_cache_table       = "{prefix}-tokens"
}}

module "scheduled" {{
  source          = "{modules}/scheduled-rotation"
  function_name   = "{prefix}-scheduled"
  stores          = ["{store}"]
  lambda_zip_path = "{zip}"
  environment     = {{ BOX_SECRETS_VAULT_ROLE = "box-secrets" }}
}}

output "sm" {{
  value = module.sm
}}

output "scheduled" {{
  value = module.scheduled
}}
"""


@contextlib.contextmanager
def applied(tf_env, lambda_package, moto, tmp_path_factory) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Both modules applied to moto in one root; destroyed on the way out unless a test did."""
    import uuid

    zip_path, _, _ = lambda_package
    root = tmp_path_factory.mktemp("tfroot")
    prefix = f"bs{uuid.uuid4().hex[:8]}"
    secret = f"tf/{prefix}-box-app"
    store = f"file:{root / 'box.json'}"
    endpoints = "\n".join(f'    {s} = "{moto.url}"' for s in AWS_SERVICES)
    (root / "main.tf").write_text(
        ROOT_MODULE.format(
            endpoints=endpoints,
            # `//` marks the package root: the modules' ../_function resolves inside it
            # (a bare absolute path to a module with a sibling is refused by Terraform).
            modules=f"{TERRAFORM_DIR}//modules",
            secret=secret,
            prefix=prefix,
            zip=zip_path,
            box="https://api.box.com",
            store=store,
        )
    )
    tf(tf_env, root, "init", "-input=false")
    # apply validates first (test_the_example_validates runs `validate` itself), and the
    # outputs are read from the state: each terraform command starts the provider anew.
    tf(tf_env, root, "apply", "-auto-approve", "-input=false", "-parallelism=20")
    outputs = json.loads((root / "terraform.tfstate").read_text())["outputs"]
    state = {
        "root": root,
        "secret": secret,
        "prefix": prefix,
        "store": store,
        "sm": outputs["sm"]["value"],
        "scheduled": outputs["scheduled"]["value"],
        "destroyed": False,
    }
    try:
        yield state
    finally:
        if not state["destroyed"]:
            tf(tf_env, root, "destroy", "-auto-approve", "-input=false", "-refresh=false")


def test_apply_check_bootstrap_rotate_destroy(
    tf_env, lambda_package, moto, tmp_path_factory, make_app, monkeypatch
) -> None:
    with applied(tf_env, lambda_package, moto, tmp_path_factory) as state:
        _the_secrets_manager_module_creates_what_it_says(state, moto)
        _the_scheduled_module_creates_what_it_says(state, moto)
        _bootstrap_then_rotation(state, tf_env, moto, make_app, monkeypatch)
        _destroy_removes_everything(state, tf_env, moto)


def _the_secrets_manager_module_creates_what_it_says(applied: dict[str, Any], moto: Any) -> None:
    sm_out = applied["sm"]
    sm = aws("secretsmanager", moto.url)
    described = sm.describe_secret(SecretId=sm_out["secret_arn"])
    assert described["Name"] == applied["secret"] and not described.get("RotationEnabled")
    assert sm_out["store_uri"] == f"aws-sm://{sm_out['secret_arn']}"
    fn = aws("lambda", moto.url).get_function(FunctionName=sm_out["function_name"])["Configuration"]
    assert fn["Handler"] == "box_secrets.aws_lambda.handler" and fn["Runtime"] == "python3.12"
    assert fn["Environment"]["Variables"]["BOX_SECRETS_NOTIFY"].startswith(
        f"sns://{sm_out['topic_arn']}"
    )
    policy = json.loads(
        aws("lambda", moto.url).get_policy(FunctionName=sm_out["function_name"])["Policy"]
    )
    (grant,) = policy["Statement"]
    assert grant["Principal"] == {"Service": "secretsmanager.amazonaws.com"}
    condition = json.dumps(grant["Condition"])
    assert sm_out["secret_arn"] in condition and "123456789012" in condition
    iam = aws("iam", moto.url)
    role = fn["Role"].rsplit("/", 1)[-1]
    document = iam.get_role_policy(RoleName=role, PolicyName="rotate-box-secrets")["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    assert by_sid["RotateTheBoxSecret"]["Resource"] == sm_out["secret_arn"]
    assert by_sid["AskAPerson"]["Resource"] == sm_out["topic_arn"]
    assert "*" not in json.dumps([s["Resource"] for s in document["Statement"]]).replace(":*", "")
    kms = iam.get_role_policy(RoleName=role, PolicyName="keep-box-keys-in-kms")["PolicyDocument"]
    kms = json.loads(kms) if isinstance(kms, str) else kms
    by_sid = {s["Sid"]: s for s in kms["Statement"]}
    tagged = by_sid["UseAndRetireTheAppsKeys"]["Condition"]["StringEquals"]
    assert tagged == {"aws:ResourceTag/box-secrets:app": "abc123"}
    assert sorted(by_sid["MoveTheAppsAliases"]["Resource"]) == [
        "arn:aws:kms:us-east-1:123456789012:alias/box-prod",
        "arn:aws:kms:us-east-1:123456789012:alias/box-prod-pending",
    ]
    reader = json.loads(sm_out["reader_policy_json"])["Statement"][0]
    assert reader["Condition"]["StringEquals"]["secretsmanager:VersionStage"] == "AWSCURRENT"
    subscriptions = aws("sns", moto.url).list_subscriptions_by_topic(TopicArn=sm_out["topic_arn"])
    assert [s["Endpoint"] for s in subscriptions["Subscriptions"]] == ["ops@example.com"]
    schedule = aws("scheduler", moto.url).get_schedule(Name=f"{applied['prefix']}-rotation-daily")
    assert json.loads(schedule["Target"]["Input"]) == {
        "action": "remind",
        "stores": [sm_out["store_uri"]],
    }
    alarms = aws("cloudwatch", moto.url).describe_alarms(AlarmNamePrefix=applied["prefix"])
    metrics = sorted(a["MetricName"] for a in alarms["MetricAlarms"])
    assert metrics == ["PersonNeeded", "RotationErrors", "RotationErrors"]  # and the scheduled one
    _the_token_cache_table_is_what_the_cache_expects(applied, moto)


def _the_token_cache_table_is_what_the_cache_expects(applied: dict[str, Any], moto: Any) -> None:
    """The table: what the dynamodb:// cache writes, TTL on exp, a policy for readers."""
    sm_out = applied["sm"]
    table = f"{applied['prefix']}-tokens"
    assert sm_out["token_cache_uri"] == f"dynamodb://{table}?region=us-east-1"
    assert applied["scheduled"]["token_cache_uri"] is None  # only where it was asked for
    dynamodb = aws("dynamodb", moto.url)
    described = dynamodb.describe_table(TableName=table)["Table"]
    assert described["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    (grant,) = json.loads(sm_out["token_cache_policy_json"])["Statement"]
    assert sorted(grant["Action"]) == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
    ]
    assert grant["Resource"] == described["TableArn"]
    # The cache itself works on the table Terraform made.
    from box_secrets.tokens.cache import open_token_cache

    cache = open_token_cache(f"{sm_out['token_cache_uri']}&endpoint_url={moto.url}")
    cache.put("box-secrets:probe", b"x", 60)
    assert cache.get("box-secrets:probe") == (b"x", None)


def _the_scheduled_module_creates_what_it_says(applied: dict[str, Any], moto: Any) -> None:
    out = applied["scheduled"]
    fn = aws("lambda", moto.url).get_function(FunctionName=out["function_name"])["Configuration"]
    variables = fn["Environment"]["Variables"]
    assert variables["BOX_SECRETS_VAULT_ROLE"] == "box-secrets"
    assert variables["BOX_SECRETS_STORE"] == applied["store"]
    assert variables["BOX_SECRETS_STORES"] == applied["store"]  # what events may name
    schedule = aws("scheduler", moto.url).get_schedule(Name=out["function_name"])
    assert schedule["ScheduleExpression"] == "rate(1 day)"
    assert schedule["Target"]["Arn"] == out["function_arn"]
    assert json.loads(schedule["Target"]["Input"]) == {"stores": [applied["store"]]}
    iam = aws("iam", moto.url)
    role = out["role_arn"].rsplit("/", 1)[-1]
    document = iam.get_role_policy(RoleName=role, PolicyName="advance-box-secrets")[
        "PolicyDocument"
    ]
    document = json.loads(document) if isinstance(document, str) else document
    assert [s["Sid"] for s in document["Statement"]] == ["WriteItsLogs"]  # nothing else granted
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    assert names == ["advance-box-secrets"]  # no KMS policy unless kms_signers names apps


def _bootstrap_then_rotation(
    applied: dict[str, Any], tf_env: Any, moto: Any, make_app: Any, monkeypatch: Any
) -> None:
    """docs/terraform.md's bootstrap: init the empty secret, then turn rotation on, then rotate."""
    from box_secrets.aws_lambda import handler

    from .rotation_support import new_rig

    arn = applied["sm"]["secret_arn"]
    rotation = "module.sm.aws_secretsmanager_secret_rotation.this"
    # Rotation on an empty secret is refused at plan, in one sentence (not a 10-minute hang).
    refused = subprocess.run(
        [str(BINARY), "plan", "-input=false", "-no-color", "-var", "enable_rotation=true",
         f"-target={rotation}"],
        cwd=applied["root"], env=tf_env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert refused.returncode != 0, refused.stdout
    assert "holds no Box config yet" in refused.stdout + refused.stderr, refused.stderr
    app = make_app()
    rig = new_rig(f"aws-sm://{arn}?region=us-east-1&endpoint_url={moto.url}", lambda: app)
    tf(tf_env, applied["root"], "apply", "-auto-approve", "-input=false", "-refresh=false",
       "-var", "enable_rotation=true", f"-target={rotation}")  # fmt: skip
    described = aws("secretsmanager", moto.url).describe_secret(SecretId=arn)
    assert described["RotationEnabled"]
    assert described["RotationLambdaARN"] == applied["sm"]["function_arn"]
    assert described["RotationRules"]["AutomaticallyAfterDays"] == 30
    rig.check()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.url)
    monkeypatch.setenv("BOX_API_BASE_URL", app.base_url)
    monkeypatch.delenv("BOX_SECRETS_NOTIFY", raising=False)
    # The stores the deployed function serves, as the module configured them.
    deployed = aws("lambda", moto.url).get_function(FunctionName=applied["sm"]["function_arn"])
    served = deployed["Configuration"]["Environment"]["Variables"]["BOX_SECRETS_STORES"]
    assert served == f"aws-sm://{arn}"
    monkeypatch.setenv("BOX_SECRETS_STORES", served)
    token = start_rotation(moto.url, arn, applied["sm"]["function_arn"])  # the module's function
    event = {"SecretId": arn, "ClientRequestToken": token}
    assert handler({"Step": "createSecret", **event}, None)["outcome"] == "staged"
    kid = rig.person_registers_pending()
    result = handler({"action": "register", "public_key_id": kid, "store": f"aws-sm://{arn}"}, None)
    assert result["stores"][0]["action"] == "promoted"
    assert holder(moto.url, arn, "AWSCURRENT") == token
    assert "AWSPENDING" not in json.dumps(labels(moto.url, arn))
    rig.check()
    rig.active_works_with_box_sdk_gen()


def _destroy_removes_everything(applied: dict[str, Any], tf_env: Any, moto: Any) -> None:
    tf(tf_env, applied["root"], "destroy", "-auto-approve", "-input=false", "-refresh=false")
    applied["destroyed"] = True
    sm = aws("secretsmanager", moto.url)
    with pytest.raises(sm.exceptions.ResourceNotFoundException):
        sm.describe_secret(SecretId=applied["sm"]["secret_arn"])
    functions = aws("lambda", moto.url).list_functions()["Functions"]
    assert not [f for f in functions if f["FunctionName"].startswith(applied["prefix"])]
    alarms = aws("cloudwatch", moto.url).describe_alarms(AlarmNamePrefix=applied["prefix"])
    assert alarms["MetricAlarms"] == []
    tables = aws("dynamodb", moto.url).list_tables()["TableNames"]
    assert not [t for t in tables if t.startswith(applied["prefix"])]
