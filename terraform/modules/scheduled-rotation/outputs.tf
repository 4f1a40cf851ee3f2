output "function_name" {
  description = "Name of the Lambda function (for the register and status events)."
  value       = module.function.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = module.function.function_arn
}

output "schedule_arn" {
  description = "ARN of the EventBridge Scheduler schedule."
  value       = module.function.schedule_arn
}

output "role_arn" {
  description = "ARN of the function's role (grant it access to Vault's aws auth role)."
  value       = module.function.role_arn
}

output "token_cache_uri" {
  description = "The shared token cache's URI (BOX_SECRETS_TOKEN_CACHE for readers), or null without token_cache_table."
  value       = one(module.token_cache[*].uri)
}

output "token_cache_policy_json" {
  description = "IAM policy a reader needs to use the shared token cache, or null without token_cache_table."
  value       = one(module.token_cache[*].policy_json)
}
