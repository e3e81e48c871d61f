# actors: the controllers kube-sim plays besides the API server, one module each.
