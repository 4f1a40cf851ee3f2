# Inputs are checked by the public modules that call this one; these only type them.

variable "function_name" {
  description = "The function's name (also names its role, log group and scheduler role)."
  type        = string
}

variable "description" {
  description = "The function's description."
  type        = string
}

variable "lambda_zip_path" {
  description = "The package `make lambda-zip` builds."
  type        = string
}

variable "architecture" {
  description = "x86_64 or arm64, matching the package."
  type        = string
}

variable "timeout" {
  description = "The function's timeout in seconds."
  type        = number
}

variable "environment" {
  description = "The function's environment variables."
  type        = map(string)
}

variable "policy_name" {
  description = "The name of the role's inline policy."
  type        = string
}

variable "policy_json" {
  description = "The caller's own statements (a policy document's JSON); writing the logs is added."
  type        = string
}

variable "kms_signers" {
  description = "Box apps whose keys live in AWS KMS: client ID and alias."
  type = list(object({
    client_id = string
    alias     = string
  }))
}

variable "vpc_subnet_ids" {
  description = "Subnets to run in (none: outside a VPC)."
  type        = list(string)
  default     = []
}

variable "vpc_security_group_ids" {
  description = "Security groups when running in a VPC."
  type        = list(string)
  default     = []
}

variable "schedule_name" {
  description = "The EventBridge Scheduler schedule's name."
  type        = string
}

variable "schedule_expression" {
  description = "When the schedule invokes the function."
  type        = string
}

variable "schedule_input" {
  description = "The event the schedule sends (JSON)."
  type        = string
}

variable "error_alarms" {
  description = "One RotationErrors alarm per store: its name, description and Store dimension."
  type = list(object({
    name        = string
    description = string
    store       = string
  }))
}

variable "alarm_actions" {
  description = "ARNs the alarms notify."
  type        = list(string)
}

variable "log_retention_days" {
  description = "How long the function's logs are kept."
  type        = number
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
}
