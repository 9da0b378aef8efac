"""wgpyd's I/O edge: TUN, UDP, logging and the one selectors loop that drives a Device."""
