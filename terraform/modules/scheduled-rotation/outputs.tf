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
