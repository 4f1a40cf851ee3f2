output "function_name" {
  description = "Name of the Lambda function (for the register and status events)."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "schedule_arn" {
  description = "ARN of the EventBridge Scheduler schedule."
  value       = aws_scheduler_schedule.this.arn
}

output "role_arn" {
  description = "ARN of the function's role (grant it access to Vault's aws auth role)."
  value       = aws_iam_role.function.arn
}
