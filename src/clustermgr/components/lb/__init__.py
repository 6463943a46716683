"""The load balancer: NGINX on the proxy in front of the identity nodes (TOPOLOGY.md).

:mod:`.model` the desired balancer and its paths, :mod:`.render` the NGINX
files (pure), :mod:`.plan` the steps that install and configure it,
:mod:`.health` what a health probe's answer means and which nodes serve.
"""
