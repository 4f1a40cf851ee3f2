output "function_name" {
  description = "The function's name."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "The function's ARN."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "The function's role."
  value       = aws_iam_role.function.arn
}

output "schedule_arn" {
  description = "The schedule that invokes the function."
  value       = aws_scheduler_schedule.this.arn
}
