lock "~> 3.19"
set :application, "shelf"
set :repo_url, "git@bitbucket.org:shelf/shelf.git"
set :deploy_to, "/srv/shelf"
