variable "stores" {
  description = "Store URIs the schedule advances (vault://..., file:/mnt/efs/..., aws-sm://...)."
  type        = list(string)

  validation {
    condition     = length(var.stores) > 0 && length(var.stores) <= 50
    error_message = "stores must name 1 to 50 store URIs."
  }

  validation {
    condition     = alltrue([for s in var.stores : can(regex("^(file:|aws-sm://|vault://)", s))])
    error_message = "every store must be a file:, aws-sm:// or vault:// URI."
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
  description = "Name of the Lambda function."
  type        = string
  default     = "box-secrets-scheduled-rotation"

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

variable "schedule_expression" {
  description = "When to advance the stores (EventBridge Scheduler rate() or cron(), UTC)."
  type        = string
  default     = "rate(1 day)"

  validation {
    condition     = can(regex("^(rate|cron|at)\\(.+\\)$", var.schedule_expression))
    error_message = "schedule_expression must be rate(...), cron(...) or at(...)."
  }
}

variable "notify" {
  description = "Where a person is told to act: an https:// webhook, or empty for a JSON line in the function's log (see also notify_topic_arn)."
  type        = string
  default     = ""
  sensitive   = true # a webhook URL is a credential

  validation {
    condition     = var.notify == "" || can(regex("^https://", var.notify))
    error_message = "notify must be empty or an https:// webhook URL."
  }
}

variable "notify_topic_arn" {
  description = "An SNS topic to tell a person through instead of notify (the function may publish to it)."
  type        = string
  default     = null
}

variable "secret_arns" {
  description = "Secrets Manager secrets among the stores (the function gets the rotation actions on them)."
  type        = list(string)
  default     = []
}

variable "environment" {
  description = "Extra environment variables, for example VAULT_ADDR and BOX_SECRETS_VAULT_ROLE (Vault uses IAM auth from Lambda)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.environment) : can(regex("^[A-Z][A-Z0-9_]*$", k))])
    error_message = "environment keys must be upper-case variable names."
  }
}

variable "vpc_subnet_ids" {
  description = "Subnets to run in (to reach a private Vault or an EFS file store); empty runs outside a VPC."
  type        = list(string)
  default     = []
}

variable "vpc_security_group_ids" {
  description = "Security groups, with vpc_subnet_ids."
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

variable "alarm_actions" {
  description = "ARNs notified when a store's rotation fails."
  type        = list(string)
  default     = []
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
