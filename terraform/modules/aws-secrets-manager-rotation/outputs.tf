output "secret_arn" {
  description = "ARN of the secret holding the Box app's config."
  value       = aws_secretsmanager_secret.this.arn
}

output "store_uri" {
  description = "The box-secrets store URI of the secret (for `box-secrets init --store ...`)."
  value       = local.store_uri
}

output "function_name" {
  description = "Name of the rotation Lambda function (for the register event)."
  value       = module.function.function_name
}

output "function_arn" {
  description = "ARN of the rotation Lambda function."
  value       = module.function.function_arn
}

output "topic_arn" {
  description = "ARN of the SNS topic that tells a person to act."
  value       = aws_sns_topic.person_needed.arn
}

output "reader_policy_json" {
  description = "IAM policy for readers: GetSecretValue on AWSCURRENT only."
  value       = data.aws_iam_policy_document.reader.json
}

output "token_cache_uri" {
  description = "The shared token cache's URI (BOX_SECRETS_TOKEN_CACHE for readers), or null without token_cache_table."
  value       = one(module.token_cache[*].uri)
}

output "token_cache_policy_json" {
  description = "IAM policy a reader needs to use the shared token cache, or null without token_cache_table."
  value       = one(module.token_cache[*].policy_json)
}
