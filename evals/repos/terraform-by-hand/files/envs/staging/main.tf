module "network" {
  source = "../../modules/network"
  name   = "atlas-staging"
  cidr   = "10.20.0.0/16"
}

module "database" {
  source = "../../modules/database"
  name   = "atlas-staging"
  vpc_id = module.network.vpc_id
}
