"""Constants shared by the web UI tests (a module of its own: test files cannot import conftest
reliably when several test directories have one)."""

PASSWORD = "correct horse battery"
# Keys from `wg genkey`; the peer's is a constant so tests can name it.
PEER_PUBLIC = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
NETWORK = """
config interface 'lan'
\toption proto 'static'
\toption ipaddr '192.168.7.1'
\toption netmask '255.255.255.0'

config interface 'wgwebapi0'
\toption proto 'wgpy'
\toption private_key 'generate'
\toption listen_port '51999'
\tlist addresses '10.99.0.1/24'
\tlist addresses 'fd99::1/64'

config wireguard_wgwebapi0 'phone'
\toption description 'Phone'
\toption public_key '{peer}'
\tlist allowed_ips '10.99.0.2/32'
""".format(peer=PEER_PUBLIC)
