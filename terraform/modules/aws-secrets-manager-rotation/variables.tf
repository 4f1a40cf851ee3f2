variable "name" {
  description = "Name of the Secrets Manager secret that holds the Box app's config (for example prod/box-app)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9/_+=.@-]{1,256}$", var.name))
    error_message = "name must be 1 to 256 letters, digits or /_+=.@- (Secrets Manager's rule)."
  }
}

variable "lambda_zip_path" {
  description = "Path of the package built by `make lambda-zip` (dist/box-secrets-lambda.zip)."
  type        = string

  validation {
    condition     = endswith(var.lambda_zip_path, ".zip")
    error_message = "lambda_zip_path must name the .zip that `make lambda-zip` builds."
  }
}

variable "function_name" {
  description = "Name of the rotation Lambda function. One function can serve many secrets."
  type        = string
  default     = "box-secrets-rotation"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1 to 64 letters, digits, hyphens or underscores."
  }
}

variable "architecture" {
  description = "Lambda architecture; build the zip for the same one (`make lambda-zip ARCH=...`)."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer-managed KMS key to encrypt the secret with; null uses the AWS managed key."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:...)."
  }
}

variable "enable_rotation" {
  description = "Turn on Secrets Manager rotation. Leave false until `box-secrets init` has put the first config in the secret (see docs/terraform.md)."
  type        = bool
  default     = false
}

variable "rotation_days" {
  description = "Days between rotations (Secrets Manager's AutomaticallyAfterDays), used when rotation_schedule_expression is null."
  type        = number
  default     = 90

  validation {
    condition     = var.rotation_days >= 1 && var.rotation_days <= 1000 && floor(var.rotation_days) == var.rotation_days
    error_message = "rotation_days must be a whole number from 1 to 1000."
  }
}

variable "rotation_schedule_expression" {
  description = "A rate() or cron() expression for rotation instead of rotation_days (UTC)."
  type        = string
  default     = null

  validation {
    condition     = var.rotation_schedule_expression == null || can(regex("^(rate|cron)\\(.+\\)$", var.rotation_schedule_expression))
    error_message = "rotation_schedule_expression must be rate(...) or cron(...)."
  }
}

variable "notification_emails" {
  description = "E-mail addresses subscribed to the \"a person is needed\" SNS topic (each must confirm)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.notification_emails : can(regex("^[^@\\s]+@[^@\\s]+$", e))])
    error_message = "notification_emails must be e-mail addresses."
  }
}

variable "person_needed_alarm_days" {
  description = "Alarm when a person has been needed (a key to register or remove) for this many days."
  type        = number
  default     = 3

  validation {
    condition     = var.person_needed_alarm_days >= 1 && var.person_needed_alarm_days <= 30 && floor(var.person_needed_alarm_days) == var.person_needed_alarm_days
    error_message = "person_needed_alarm_days must be a whole number from 1 to 30."
  }
}

variable "alarm_actions" {
  description = "ARNs notified when an alarm fires (for example an on-call SNS topic); the module's own topic is always added."
  type        = list(string)
  default     = []
}

variable "box_api_base_url" {
  description = "Box's API base URL (change only to point at an emulator)."
  type        = string
  default     = "https://api.box.com"

  validation {
    condition     = can(regex("^https?://", var.box_api_base_url))
    error_message = "box_api_base_url must be an http(s) URL."
  }
}

variable "additional_secret_arns" {
  description = "Other box-secrets secrets this function may rotate (each also needs its own rotation set-up)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.additional_secret_arns : can(regex("^arn:aws[a-z-]*:secretsmanager:", a))])
    error_message = "additional_secret_arns must be Secrets Manager secret ARNs."
  }
}

variable "recovery_window_in_days" {
  description = "Days Secrets Manager keeps the secret after `terraform destroy` (0 deletes at once; 7 to 30 otherwise)."
  type        = number
  default     = 30

  validation {
    condition     = var.recovery_window_in_days == 0 || (var.recovery_window_in_days >= 7 && var.recovery_window_in_days <= 30)
    error_message = "recovery_window_in_days must be 0 or from 7 to 30."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the function's logs."
  type        = number
  default     = 90
}

variable "tags" {
  description = "Tags for every resource the module creates."
  type        = map(string)
  default     = {}
}

variable "kms_signers" {
  description = "Box apps whose keys live in AWS KMS (box-secrets init --signer aws-kms://alias/NAME): each app's client ID and alias. The function may then create keys tagged with those apps, use and retire them, and move those aliases (docs/signers.md)."
  type = list(object({
    client_id = string
    alias     = string
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.kms_signers : can(regex("^alias/[A-Za-z0-9/_-]+$", s.alias)) && can(regex("^[A-Za-z0-9]+$", s.client_id))])
    error_message = "Each kms_signers entry needs a client_id of letters and digits and an alias like alias/box-app."
  }
}

variable "token_cache_table" {
  description = "Name of a DynamoDB table to create as the fleet's shared token cache (docs/fleet.md); null creates none. Give its token_cache_uri output to readers as BOX_SECRETS_TOKEN_CACHE, and attach token_cache_policy_json to their roles."
  type        = string
  default     = null
}
