import { registerDecorator } from 'class-validator';

/** An absolute http(s) URL of at most 2048 characters, as Plivo's URL parameters take. */
export function IsPlivoUrl(field: string): PropertyDecorator {
  return (target, propertyName) => {
    registerDecorator({
      name: 'isPlivoUrl',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: `${field} must be an http or https URL` },
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'string' || value.length > 2048) return false;
          try {
            const url = new URL(value);
            return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
          } catch {
            return false;
          }
        },
      },
    });
  };
}
