import { ErrorCodes, ListProxySessions, PAGE_OFFSET_MAX } from '@maskline/contracts';
import { readTwilioPaging, twilioPage } from './twilio-page';

describe("Twilio's paging parameters", () => {
  it('defaults to the first page of 50, and reads Page and PageSize', () => {
    expect(readTwilioPaging({})).toStrictEqual({ page: 0, pageSize: 50 });
    expect(readTwilioPaging({ Page: '3', PageSize: '20', PageToken: 'PT1' })).toStrictEqual({
      page: 3,
      pageSize: 20,
    });
  });

  it('refuses a page whose records before it pass PAGE_OFFSET_MAX, naming Page and the rule', () => {
    expect(readTwilioPaging({ Page: '10', PageSize: '1000' })).toStrictEqual({ page: 10, pageSize: 1000 });
    expect(readTwilioPaging({ Page: String(PAGE_OFFSET_MAX / 50), PageSize: '50' }).page).toBe(200);
    for (const [Page, PageSize] of [
      ['11', '1000'],
      ['9999', '1000'],
      ['201', '50'],
    ]) {
      expect(() => readTwilioPaging({ Page, PageSize })).toThrow(
        expect.objectContaining({
          code: ErrorCodes.VALIDATION,
          field: 'Page',
          message: expect.stringContaining(`Page × PageSize must be at most ${PAGE_OFFSET_MAX}`),
        }),
      );
    }
  });

  it('is the rule the services hold a list request to as well, whoever sends it', () => {
    const request = (page: number) => ({
      scope: { accountId: 'MAAAAAAAAAAAAAAAAAA1' },
      service: `KS${'a'.repeat(32)}`,
      page,
      pageSize: 1000,
    });
    expect(ListProxySessions.request.safeParse(request(10)).success).toBe(true);
    const refused = ListProxySessions.request.safeParse(request(11));
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]).toMatchObject({ path: ['page'] });
  });

  it('refuses what is not a whole number in range, or not a paging parameter', () => {
    expect(() => readTwilioPaging({ Page: '-1' })).toThrow(expect.objectContaining({ field: 'Page' }));
    expect(() => readTwilioPaging({ PageSize: '0' })).toThrow(expect.objectContaining({ field: 'PageSize' }));
    expect(() => readTwilioPaging({ Status: 'open' })).toThrow(expect.objectContaining({ field: 'Status' }));
  });

  it('gives no next page past the reach, so the SDKs stop where a page would be refused', () => {
    const page = (n: number) =>
      twilioPage('http://127.0.0.1:9/v1/Services', 'services', [], { page: n, pageSize: 1000, more: true });
    expect(page(9).meta.next_page_url).toBe('http://127.0.0.1:9/v1/Services?PageSize=1000&Page=10');
    expect(page(10).meta.next_page_url).toBeNull();
  });
});
