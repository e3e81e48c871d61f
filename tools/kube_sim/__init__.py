# kube_sim: a small stand-in for kube-apiserver and the cluster around it, for tests (see tools/kube-sim.md).
