# The fleet's shared token cache (docs/fleet.md): a DynamoDB table whose items
# box-secrets writes sealed (AES-GCM under a key only the app's readers hold),
# with TTL on `exp` so expired entries and leases are deleted (lazily: readers
# check expiry themselves), and the policy a token reader needs.

data "aws_region" "current" {}

resource "aws_dynamodb_table" "this" {
  name         = var.name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }

  ttl {
    attribute_name = "exp"
    enabled        = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

# Only the three item operations box-secrets uses, and only on its own items
# (every name it writes starts with "box-secrets:"), so the table may be shared.
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
data "aws_iam_policy_document" "use" {
  statement {
    sid       = "ShareBoxTokens"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.this.arn]
    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["box-secrets:*"]
    }
  }
}
