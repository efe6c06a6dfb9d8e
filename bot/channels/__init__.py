"""Channel adapters: each turns its SDK's input into `Inbound` and sends `Reply` back."""
