variable "name" {
  type = string
}

variable "vpc_id" {
  type = string
}

resource "aws_db_instance" "this" {
  identifier          = var.name
  engine              = "postgres"
  instance_class      = "db.t4g.medium"
  allocated_storage   = 50
  skip_final_snapshot = false
}

# The storage size in GB ("Größe" in the German runbook this module came from).
variable "größe" {
  type    = number
  default = 50
}
