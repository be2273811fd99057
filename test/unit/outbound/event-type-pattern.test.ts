import { endpointMatches, matchesEventType } from '../../../lambdas/core/outbound/event-type-pattern';

describe('matchesEventType', () => {
  it('lets every type through an empty list or `*`', () => {
    expect(matchesEventType([], 'anything.at.all')).toBe(true);
    expect(matchesEventType(['*'], 'anything.at.all')).toBe(true);
    expect(matchesEventType(['other.type', '*'], 'x')).toBe(true);
  });

  it.each([
    ['a.b', true],
    ['a.b.c', true],
    ['a', false],
    ['a.', false],
    ['ab.c', false],
    ['b.a.c', false],
  ])('`a.*` against %s is %s', (eventType, expected) => {
    expect(matchesEventType(['a.*'], eventType)).toBe(expected);
  });

  it('matches a nested wildcard only under its whole prefix', () => {
    expect(matchesEventType(['a.b.*'], 'a.b.c')).toBe(true);
    expect(matchesEventType(['a.b.*'], 'a.bc.d')).toBe(false);
    expect(matchesEventType(['a.b.*'], 'a.b')).toBe(false);
  });

  it('matches other patterns exactly', () => {
    expect(matchesEventType(['project.created'], 'project.created')).toBe(true);
    expect(matchesEventType(['project.created'], 'project.created.v2')).toBe(false);
    expect(matchesEventType(['project.created'], 'Project.created')).toBe(false);
    expect(matchesEventType(['project.created', 'project.deleted'], 'project.deleted')).toBe(true);
  });
});

describe('endpointMatches', () => {
  const message = { eventType: 'charge.succeeded', source: 'stripe' };

  it('takes any source when the list is empty, else only the listed ones', () => {
    expect(endpointMatches({ eventTypes: [], sources: [] }, message)).toBe(true);
    expect(endpointMatches({ eventTypes: [], sources: ['app', 'stripe'] }, message)).toBe(true);
    expect(endpointMatches({ eventTypes: [], sources: ['app'] }, message)).toBe(false);
  });

  it('needs both the source and the event type to match', () => {
    expect(endpointMatches({ eventTypes: ['charge.*'], sources: ['stripe'] }, message)).toBe(true);
    expect(endpointMatches({ eventTypes: ['invoice.*'], sources: ['stripe'] }, message)).toBe(false);
    expect(endpointMatches({ eventTypes: ['charge.*'], sources: ['github'] }, message)).toBe(false);
  });

  it('sends operational events only to endpoints that name them', () => {
    const notice = { eventType: 'endpoint.disabled', source: 'hookhub' };
    expect(endpointMatches({ eventTypes: [], sources: [] }, notice)).toBe(false);
    expect(endpointMatches({ eventTypes: ['*'], sources: [] }, notice)).toBe(false);
    expect(endpointMatches({ eventTypes: ['endpoint.*'], sources: [] }, notice)).toBe(true);
    expect(endpointMatches({ eventTypes: ['endpoint.disabled'], sources: [] }, notice)).toBe(true);
    expect(endpointMatches({ eventTypes: ['message.*'], sources: [] }, notice)).toBe(false);
    expect(endpointMatches({ eventTypes: [], sources: ['hookhub'] }, notice)).toBe(true);
  });
});
