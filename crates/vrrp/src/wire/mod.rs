//! VRRP wire formats (see the module docs of each submodule).
