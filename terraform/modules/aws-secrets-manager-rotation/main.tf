# Secrets Manager rotation of a Box app's key pair, with a person in the loop.
# The first key never passes through Terraform: after apply, run
# `box-secrets init --store aws-sm://<secret ARN>` (docs/terraform.md).

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  store_uri   = "aws-sm://${aws_secretsmanager_secret.this.arn}"
  secret_arns = concat([aws_secretsmanager_secret.this.arn], var.additional_secret_arns)
  stores      = [for arn in local.secret_arns : "aws-sm://${arn}"]
  log_group   = "/aws/lambda/${var.function_name}"
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

resource "aws_cloudwatch_log_group" "rotation" {
  name              = local.log_group
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "rotation" {
  name               = "${var.function_name}-role"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
  tags               = var.tags
}

# Exactly the actions docs/aws-lambda.md lists (tested there to be enough, and
# each needed), on these secrets only; plus writing its own logs.
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

  statement {
    sid       = "WriteItsLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.rotation.arn}:*"]
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

resource "aws_iam_role_policy" "rotation" {
  name   = "rotate-box-secrets"
  role   = aws_iam_role.rotation.id
  policy = data.aws_iam_policy_document.rotation.json
}

# Keys held by AWS KMS (--signer aws-kms://..., docs/signers.md): a policy of their own,
# only when asked. Create RSA SIGN_VERIFY keys tagged with the apps; use and retire only
# keys so tagged; move only the named aliases. (The same in both modules: Terraform
# refuses a shared child module outside a module's own directory when the module is
# used from an absolute path.)
locals {
  kms_client_ids = distinct([for s in var.kms_signers : s.client_id])
  kms_prefix     = "arn:${data.aws_partition.current.partition}:kms:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  kms_aliases = flatten([
    for s in var.kms_signers : ["${local.kms_prefix}:${s.alias}", "${local.kms_prefix}:${s.alias}-pending"]
  ])
}

data "aws_iam_policy_document" "kms_signers" {
  statement {
    sid       = "CreateTaggedSigningKeys"
    actions   = ["kms:CreateKey", "kms:TagResource"]
    resources = ["*"] # a key's ARN does not exist before it is created
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/box-secrets:app"
      values   = local.kms_client_ids
    }
  }

  statement {
    sid = "UseAndRetireTheAppsKeys"
    actions = [
      "kms:DescribeKey",
      "kms:GetPublicKey",
      "kms:ListResourceTags",
      "kms:Sign",
      "kms:TagResource",
      "kms:DisableKey",
      "kms:ScheduleKeyDeletion",
      "kms:CreateAlias",
      "kms:UpdateAlias",
      "kms:DeleteAlias",
    ]
    resources = ["${local.kms_prefix}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/box-secrets:app"
      values   = local.kms_client_ids
    }
  }

  statement {
    sid       = "MoveTheAppsAliases"
    actions   = ["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"]
    resources = local.kms_aliases
  }
}

resource "aws_iam_role_policy" "kms_signers" {
  count  = length(var.kms_signers) > 0 ? 1 : 0
  name   = "keep-box-keys-in-kms"
  role   = aws_iam_role.rotation.id
  policy = data.aws_iam_policy_document.kms_signers.json
}

resource "aws_lambda_function" "rotation" {
  function_name    = var.function_name
  description      = "box-secrets: Box key rotation with a person in the loop"
  role             = aws_iam_role.rotation.arn
  runtime          = "python3.12"
  handler          = "box_secrets.aws_lambda.handler"
  architectures    = [var.architecture]
  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)
  timeout          = 120
  memory_size      = 256
  tags             = var.tags

  environment {
    variables = {
      BOX_API_BASE_URL   = var.box_api_base_url
      BOX_SECRETS_NOTIFY = "sns://${aws_sns_topic.person_needed.arn}?region=${data.aws_region.current.name}"
      # Calls to Box must end well inside the function's timeout.
      BOX_SECRETS_DEADLINE = "60"
      # The only stores an event (register, status, remind) may name: whoever may invoke
      # the function must not point it, and its credentials, at a store of their own.
      BOX_SECRETS_STORES = join(" ", local.stores)
    }
  }

  depends_on = [aws_iam_role_policy.rotation, aws_iam_role_policy.kms_signers, aws_cloudwatch_log_group.rotation]
}

# Secrets Manager may invoke the function, for these secrets in this account only.
resource "aws_lambda_permission" "secretsmanager" {
  count          = length(local.secret_arns)
  statement_id   = "SecretsManagerRotation${count.index}"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.rotation.function_name
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
  rotation_lambda_arn = aws_lambda_function.rotation.arn
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

# Daily: remind the person if one is needed, retire an old key Box already
# refuses, and emit the metrics the alarms read. It never stages a key
# (Secrets Manager's schedule does).
data "aws_iam_policy_document" "assume_scheduler" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.function_name}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.assume_scheduler.json
  tags               = var.tags
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.rotation.arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "invoke-box-secrets"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "daily" {
  name                = "${var.function_name}-daily"
  schedule_expression = "rate(1 day)"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.rotation.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({ action = "remind", stores = local.stores })
  }
}

# Alarms read box-secrets' own metrics: a rotation waiting for a person is not
# an error (docs/aws-lambda.md, "What Secrets Manager and CloudWatch show").
# count, not for_each: the store URIs hold ARNs known only after apply.
resource "aws_cloudwatch_metric_alarm" "rotation_errors" {
  count               = length(local.secret_arns)
  alarm_name          = "${var.function_name}-errors-${count.index}"
  alarm_description   = "box-secrets rotation failed for ${local.stores[count.index]} (not merely waiting for a person)."
  namespace           = "BoxSecrets"
  metric_name         = "RotationErrors"
  dimensions          = { Store = local.stores[count.index] }
  statistic           = "Maximum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = concat([aws_sns_topic.person_needed.arn], var.alarm_actions)
  tags                = var.tags
}

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
