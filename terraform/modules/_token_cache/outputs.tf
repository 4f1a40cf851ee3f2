output "uri" {
  description = "The token cache URI: BOX_SECRETS_TOKEN_CACHE for the functions that read tokens."
  value       = "dynamodb://${aws_dynamodb_table.this.name}?region=${data.aws_region.current.name}"
}

output "table_arn" {
  description = "ARN of the table."
  value       = aws_dynamodb_table.this.arn
}

output "policy_json" {
  description = "IAM policy a token reader needs to use the cache (GetItem, PutItem, DeleteItem on box-secrets' items)."
  value       = data.aws_iam_policy_document.use.json
}
