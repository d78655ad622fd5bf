require "rails/all"

module Shelf
  class Application < Rails::Application
    config.load_defaults 7.2
  end
end
