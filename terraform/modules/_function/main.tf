# The box-secrets rotation function and what every deployment of it needs: its log
# group, its role (its own statements plus writing its logs), the KMS-signer policy
# when asked, a schedule that invokes it, and an alarm per store on RotationErrors.
# Private to this repository's modules (../aws-secrets-manager-rotation and
# ../scheduled-rotation), which pass what differs.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
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

resource "aws_iam_role" "function" {
  name               = "${var.function_name}-role"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
  tags               = var.tags
}

# The caller's statements, and writing its own log group.
data "aws_iam_policy_document" "function" {
  source_policy_documents = [var.policy_json]

  statement {
    sid       = "WriteItsLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
}

resource "aws_iam_role_policy" "function" {
  name   = var.policy_name
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.function.json
}

# Keys held by AWS KMS (--signer aws-kms://..., docs/signers.md): a policy of their own,
# only when asked. Create RSA SIGN_VERIFY keys tagged with the apps; use and retire only
# keys so tagged; move only the named aliases.
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
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.kms_signers.json
}

resource "aws_lambda_function" "this" {
  function_name    = var.function_name
  description      = var.description
  role             = aws_iam_role.function.arn
  runtime          = "python3.12"
  handler          = "box_secrets.aws_lambda.handler"
  architectures    = [var.architecture]
  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)
  timeout          = var.timeout
  memory_size      = 256
  tags             = var.tags

  environment {
    variables = var.environment
  }

  dynamic "vpc_config" {
    for_each = length(var.vpc_subnet_ids) > 0 ? [1] : []
    content {
      subnet_ids         = var.vpc_subnet_ids
      security_group_ids = var.vpc_security_group_ids
    }
  }

  depends_on = [aws_iam_role_policy.function, aws_iam_role_policy.kms_signers, aws_cloudwatch_log_group.this]
}

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
    resources = [aws_lambda_function.this.arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "invoke-box-secrets"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "this" {
  name                = var.schedule_name
  schedule_expression = var.schedule_expression

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.this.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = var.schedule_input
  }
}

# Alarms read box-secrets' own metrics: a rotation waiting for a person is not an
# error (docs/aws-lambda.md). count, not for_each: store URIs may hold ARNs known
# only after apply.
resource "aws_cloudwatch_metric_alarm" "errors" {
  count               = length(var.error_alarms)
  alarm_name          = var.error_alarms[count.index].name
  alarm_description   = var.error_alarms[count.index].description
  namespace           = "BoxSecrets"
  metric_name         = "RotationErrors"
  dimensions          = { Store = var.error_alarms[count.index].store }
  statistic           = "Maximum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  tags                = var.tags
}
