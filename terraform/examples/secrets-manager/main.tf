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

  name                = "prod/box-app"
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
