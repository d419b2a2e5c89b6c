import { EmptyState, EmptyStateBody, PageSection } from '@patternfly/react-core';

export function Forbidden({ notFound }: { notFound?: boolean }) {
  return (
    <PageSection>
      <EmptyState titleText={notFound ? 'Page not found' : 'Not allowed'} headingLevel="h1">
        <EmptyStateBody>{notFound ? 'There is no such page in the dashboard.' : 'This page is for administrators: your role in this project does not allow it.'}</EmptyStateBody>
      </EmptyState>
    </PageSection>
  );
}
