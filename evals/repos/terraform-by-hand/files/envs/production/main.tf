module "network" {
  source = "../../modules/network"
  name   = "atlas-production"
  cidr   = "10.30.0.0/16"
}

module "database" {
  source = "../../modules/database"
  name   = "atlas-production"
  vpc_id = module.network.vpc_id
}
