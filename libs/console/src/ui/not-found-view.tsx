import { defaultHashFor } from '../logic/console-route';
import { useConsole } from './console-context';
import { PageHeading } from './page-heading';

export function NotFoundView({ path }: { path: string }) {
  const { session } = useConsole();
  return (
    <section>
      <PageHeading>Page not found</PageHeading>
      <p>
        There is no console page at <code>{path}</code>.{' '}
        <a href={defaultHashFor(session.kind)}>Go to the start page</a> or pick a page from the navigation.
      </p>
    </section>
  );
}
