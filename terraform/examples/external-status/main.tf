# Reading box-secrets from Terraform with the external data source: the key's
# status (no secret) and a short, downscoped token for a provider that needs
# one. The token lands in the state file in plain text: keep it short-lived
# and narrow, and prefer status and public-key where they are enough.

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    external = {
      source  = "hashicorp/external"
      version = ">= 2.3, < 3.0"
    }
  }
}

variable "store" {
  description = "The box-secrets store URI."
  type        = string
  default     = "aws-sm://prod/box-app"
}

data "external" "box_status" {
  program = ["box-secrets", "terraform", "status"]
  query = {
    store = var.store
  }
}

data "external" "box_token" {
  program = ["box-secrets", "terraform", "token"]
  query = {
    store  = var.store
    scopes = "item_preview"
  }
}

output "box_key_state" {
  description = "Where the key rotation stands."
  value       = data.external.box_status.result.state
}

output "box_person_needed" {
  description = "\"true\" while a person must act in the Box Developer Console."
  value       = data.external.box_status.result.person_needed
}

output "box_token" {
  description = "A downscoped access token (item_preview only)."
  value       = data.external.box_token.result.access_token
  sensitive   = true
}
