# Secrets Manager rotation of a Box app's key pair, with a person in the loop.
# The first key never passes through Terraform: after apply, run
# `box-secrets init --store aws-sm://<secret ARN>` (docs/terraform.md).

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  store_uri   = "aws-sm://${aws_secretsmanager_secret.this.arn}"
  secret_arns = concat([aws_secretsmanager_secret.this.arn], var.additional_secret_arns)
  stores      = [for arn in local.secret_arns : "aws-sm://${arn}"]
}

resource "aws_secretsmanager_secret" "this" {
  name                    = var.name
  description             = "Box app credentials managed by box-secrets"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_sns_topic" "person_needed" {
  name = "${var.function_name}-person-needed"
  tags = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.notification_emails)
  topic_arn = aws_sns_topic.person_needed.arn
  protocol  = "email"
  endpoint  = each.value
}

# Exactly the actions docs/aws-lambda.md lists (tested there to be enough, and
# each needed), on these secrets only; ../_function adds writing its own logs.
data "aws_iam_policy_document" "rotation" {
  statement {
    sid = "RotateTheBoxSecret"
    actions = [
      "secretsmanager:DescribeSecret",
      "secretsmanager:GetSecretValue",
      "secretsmanager:PutSecretValue",
      "secretsmanager:UpdateSecretVersionStage",
    ]
    resources = local.secret_arns
  }

  statement {
    sid       = "AskAPerson"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.person_needed.arn]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "UseTheSecretsKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:EncryptionContext:SecretARN"
        values   = local.secret_arns
      }
    }
  }
}

module "function" {
  source = "../_function"

  function_name   = var.function_name
  description     = "box-secrets: Box key rotation with a person in the loop"
  lambda_zip_path = var.lambda_zip_path
  architecture    = var.architecture
  timeout         = 120
  environment = {
    BOX_API_BASE_URL   = var.box_api_base_url
    BOX_SECRETS_NOTIFY = "sns://${aws_sns_topic.person_needed.arn}?region=${data.aws_region.current.name}"
    # Calls to Box must end well inside the function's timeout.
    BOX_SECRETS_DEADLINE = "60"
    # The only stores an event (register, status, remind) may name: whoever may invoke
    # the function must not point it, and its credentials, at a store of their own.
    BOX_SECRETS_STORES = join(" ", local.stores)
  }
  policy_name = "rotate-box-secrets"
  policy_json = data.aws_iam_policy_document.rotation.json
  kms_signers = var.kms_signers
  # Daily: remind a person if one is needed, retire an old key Box already refuses, and
  # emit the metrics the alarms read; never stage a key (Secrets Manager's schedule does).
  schedule_name       = "${var.function_name}-daily"
  schedule_expression = "rate(1 day)"
  schedule_input      = jsonencode({ action = "remind", stores = local.stores })
  error_alarms = [for i, store in local.stores : {
    name        = "${var.function_name}-errors-${i}"
    description = "box-secrets rotation failed for ${store} (not merely waiting for a person)."
    store       = store
  }]
  alarm_actions      = concat([aws_sns_topic.person_needed.arn], var.alarm_actions)
  log_retention_days = var.log_retention_days
  tags               = var.tags
}

# Secrets Manager may invoke the function, for these secrets in this account only.
resource "aws_lambda_permission" "secretsmanager" {
  count          = length(local.secret_arns)
  statement_id   = "SecretsManagerRotation${count.index}"
  action         = "lambda:InvokeFunction"
  function_name  = module.function.function_name
  principal      = "secretsmanager.amazonaws.com"
  source_account = data.aws_caller_identity.current.account_id
  source_arn     = local.secret_arns[count.index]
}

# The versions' labels (never their values, which would land in the state): rotation
# may only be turned on once `box-secrets init` has given the secret an AWSCURRENT value.
data "aws_secretsmanager_secret_versions" "bootstrapped" {
  count     = var.enable_rotation ? 1 : 0
  secret_id = aws_secretsmanager_secret.this.id
}

resource "aws_secretsmanager_secret_rotation" "this" {
  count               = var.enable_rotation ? 1 : 0
  secret_id           = aws_secretsmanager_secret.this.id
  rotation_lambda_arn = module.function.function_arn
  # The first rotation waits for the schedule: the person is asked then. AWS still runs
  # testSecret once to test the set-up; the function answers it as a health check.
  rotate_immediately = false

  rotation_rules {
    automatically_after_days = var.rotation_schedule_expression == null ? var.rotation_days : null
    schedule_expression      = var.rotation_schedule_expression
  }

  lifecycle {
    precondition {
      condition = anytrue([
        for v in coalesce(data.aws_secretsmanager_secret_versions.bootstrapped[0].versions, []) :
        contains(v.version_stages, "AWSCURRENT")
      ])
      error_message = "The secret holds no Box config yet: run `box-secrets init --store <the store_uri output>` first, then set enable_rotation = true."
    }
  }

  depends_on = [aws_lambda_permission.secretsmanager]
}

# A person needed for too long: this module's own alarm (the errors alarm is the
# shared module's).
resource "aws_cloudwatch_metric_alarm" "person_needed" {
  count               = length(local.secret_arns)
  alarm_name          = "${var.function_name}-person-needed-${count.index}"
  alarm_description   = "A person has been needed at Box for ${local.stores[count.index]} for ${var.person_needed_alarm_days} days."
  namespace           = "BoxSecrets"
  metric_name         = "PersonNeeded"
  dimensions          = { Store = local.stores[count.index] }
  statistic           = "Minimum"
  period              = 86400
  evaluation_periods  = var.person_needed_alarm_days
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = concat([aws_sns_topic.person_needed.arn], var.alarm_actions)
  tags                = var.tags
}

# What readers (your functions) need: the current version only.
data "aws_iam_policy_document" "reader" {
  statement {
    sid       = "ReadOnlyTheCurrentBoxConfig"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.this.arn]
    condition {
      test     = "StringEquals"
      variable = "secretsmanager:VersionStage"
      values   = ["AWSCURRENT"]
    }
  }
}

# State written before the shared module: the same objects, now inside it.
moved {
  from = aws_cloudwatch_log_group.rotation
  to   = module.function.aws_cloudwatch_log_group.this
}

moved {
  from = aws_iam_role.rotation
  to   = module.function.aws_iam_role.function
}

moved {
  from = aws_iam_role_policy.rotation
  to   = module.function.aws_iam_role_policy.function
}

moved {
  from = aws_iam_role_policy.kms_signers
  to   = module.function.aws_iam_role_policy.kms_signers
}

moved {
  from = aws_lambda_function.rotation
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
  from = aws_scheduler_schedule.daily
  to   = module.function.aws_scheduler_schedule.this
}

moved {
  from = aws_cloudwatch_metric_alarm.rotation_errors
  to   = module.function.aws_cloudwatch_metric_alarm.errors
}

# The optional shared token cache for the functions that read this app's tokens.
module "token_cache" {
  source = "../_token_cache"
  count  = var.token_cache_table == null ? 0 : 1

  name        = var.token_cache_table
  kms_key_arn = var.kms_key_arn
  tags        = var.tags
}
