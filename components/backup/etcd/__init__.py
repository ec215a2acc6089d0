"""Encrypted etcd snapshots of k3s/RKE2 clusters (#11 item 4): the config (`backup.etcd`), the distribution's
snapshot settings for the servers' config file, and the host-side uploader that encrypts each snapshot to public
keys before it leaves the plant (uploader.py says where it runs and why). Managed clusters: managed_cluster_note."""
