//! Named pipes over IPC$: DCE/RPC and srvsvc (to be written).
