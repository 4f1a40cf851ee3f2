# A complete root module: one Box app's key in Secrets Manager, rotated by the
# box-secrets Lambda with a person in the loop. See docs/terraform.md for the
# bootstrap steps (the first key never passes through Terraform).

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
  }
}

provider "aws" {
  region = var.region

  # A dry run against a local moto server (docs/terraform.md): set aws_endpoint_url.
  skip_credentials_validation = var.aws_endpoint_url != null
  skip_metadata_api_check     = var.aws_endpoint_url != null
  skip_requesting_account_id  = var.aws_endpoint_url != null
  dynamic "endpoints" {
    for_each = var.aws_endpoint_url == null ? [] : [var.aws_endpoint_url]
    content {
      cloudwatch     = endpoints.value
      iam            = endpoints.value
      lambda         = endpoints.value
      logs           = endpoints.value
      scheduler      = endpoints.value
      secretsmanager = endpoints.value
      sns            = endpoints.value
      sts            = endpoints.value
    }
  }
}

variable "aws_endpoint_url" {
  description = "For a dry run only: send every AWS call here (a moto server, http://127.0.0.1:5000)."
  type        = string
  default     = null
}

variable "box_api_base_url" {
  description = "Box's API; the Box emulator's base_url for a dry run."
  type        = string
  default     = "https://api.box.com"
}

variable "secret_name" {
  description = "The secret that holds the Box app's config."
  type        = string
  default     = "box-secrets-example/box-app"
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "lambda_zip_path" {
  description = "The package `make lambda-zip` builds."
  type        = string
  default     = "../../../dist/box-secrets-lambda.zip"
}

variable "enable_rotation" {
  description = "Set to true after `box-secrets init` has put the first config in the secret."
  type        = bool
  default     = false
}

variable "operators" {
  description = "E-mail addresses told when a person must act at Box."
  type        = list(string)
  default     = []
}

module "box_app" {
  source = "../../modules/aws-secrets-manager-rotation"

  name                = var.secret_name
  function_name       = "box-secrets-example-rotation"
  box_api_base_url    = var.box_api_base_url
  lambda_zip_path     = var.lambda_zip_path
  enable_rotation     = var.enable_rotation
  rotation_days       = 90
  notification_emails = var.operators
}

output "store_uri" {
  description = "Run `box-secrets init --store <this>` once after the first apply."
  value       = module.box_app.store_uri
}

output "function_name" {
  description = "The function to invoke with {\"action\": \"register\", ...}."
  value       = module.box_app.function_name
}

output "reader_policy_json" {
  description = "Attach to the roles of functions that mint tokens."
  value       = module.box_app.reader_policy_json
}
