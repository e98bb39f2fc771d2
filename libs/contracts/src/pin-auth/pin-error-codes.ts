/** Error codes of the PIN service. Session creation answers CAPACITY and CONFLICT by asking for another number. */
export const PinErrorCodes = {
  /** The virtual number already carries as many live PINs of that length as the density cap allows. */
  CAPACITY: 'PIN.CAPACITY',
  /** A supplied PIN is already live on that virtual number. */
  CONFLICT: 'PIN.CONFLICT',
} as const;
