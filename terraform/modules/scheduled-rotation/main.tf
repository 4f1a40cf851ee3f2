# A schedule that advances any box-secrets stores (Vault, files on EFS,
# Secrets Manager without its rotation protocol): stage when due, remind, verify,
# promote, retire. A person registers keys with the register event or the CLI.

data "aws_region" "current" {}

locals {
  notify = (
    var.notify_topic_arn != null
    ? "sns://${var.notify_topic_arn}?region=${data.aws_region.current.name}"
    : var.notify
  )
}

# The function, its role and logs, the KMS-signer policy, the schedule and the alarms
# are the shared ../_function module's; this module says what is particular to it.
data "aws_iam_policy_document" "function" {
  dynamic "statement" {
    for_each = length(var.secret_arns) > 0 ? [1] : []
    content {
      sid = "RotateTheBoxSecrets"
      actions = [
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
      ]
      resources = var.secret_arns
    }
  }

  dynamic "statement" {
    for_each = var.notify_topic_arn == null ? [] : [var.notify_topic_arn]
    content {
      sid       = "AskAPerson"
      actions   = ["sns:Publish"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = length(var.vpc_subnet_ids) > 0 ? [1] : []
    content {
      sid = "RunInTheVpc"
      actions = [
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DeleteNetworkInterface",
      ]
      resources = ["*"] # EC2 does not scope these actions to resources
    }
  }
}

module "function" {
  source = "../_function"

  function_name   = var.function_name
  description     = "box-secrets: scheduled Box key rotation"
  lambda_zip_path = var.lambda_zip_path
  architecture    = var.architecture
  timeout         = 300
  environment = merge(var.environment, {
    BOX_API_BASE_URL     = var.box_api_base_url
    BOX_SECRETS_NOTIFY   = local.notify
    BOX_SECRETS_STORE    = var.stores[0]
    BOX_SECRETS_DEADLINE = "60"
    # The only stores an event may name (see docs/aws-lambda.md, "Who may invoke").
    BOX_SECRETS_STORES = join(" ", var.stores)
  })
  policy_name            = "advance-box-secrets"
  policy_json            = data.aws_iam_policy_document.function.json
  kms_signers            = var.kms_signers
  vpc_subnet_ids         = var.vpc_subnet_ids
  vpc_security_group_ids = var.vpc_security_group_ids
  schedule_name          = var.function_name
  schedule_expression    = var.schedule_expression
  schedule_input         = jsonencode({ stores = var.stores })
  error_alarms = [for store in var.stores : {
    name        = "${var.function_name}-errors-${substr(sha256(store), 0, 12)}"
    description = "box-secrets scheduled rotation failed for ${store}."
    store       = store
  }]
  alarm_actions      = var.alarm_actions
  log_retention_days = var.log_retention_days
  tags               = var.tags
}

# State written before the shared module: the same objects, now inside it.
moved {
  from = aws_cloudwatch_log_group.this
  to   = module.function.aws_cloudwatch_log_group.this
}

moved {
  from = aws_iam_role.function
  to   = module.function.aws_iam_role.function
}

moved {
  from = aws_iam_role_policy.function
  to   = module.function.aws_iam_role_policy.function
}

moved {
  from = aws_iam_role_policy.kms_signers
  to   = module.function.aws_iam_role_policy.kms_signers
}

moved {
  from = aws_lambda_function.this
  to   = module.function.aws_lambda_function.this
}

moved {
  from = aws_iam_role.scheduler
  to   = module.function.aws_iam_role.scheduler
}

moved {
  from = aws_iam_role_policy.scheduler
  to   = module.function.aws_iam_role_policy.scheduler
}

moved {
  from = aws_scheduler_schedule.this
  to   = module.function.aws_scheduler_schedule.this
}
# The alarms were keyed by store (for_each) and are now counted: they are replaced
# once, which loses nothing (an alarm holds no history that matters here).

# The optional shared token cache for the functions that read this app's tokens.
module "token_cache" {
  source = "../_token_cache"
  count  = var.token_cache_table == null ? 0 : 1

  name = var.token_cache_table
  tags = var.tags
}
