"""The code user's pages behind a QR code: device, assistant, wizard, tickets."""
