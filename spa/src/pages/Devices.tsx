// The devices: filtered on the server (status, site, tag, name), sorted there (name, last seen), paged by cursor, and a detail pane
// beside the list for the one selected (/devices/:id). The list scrolls in its own box and only the rows in view (and a few either
// side) are in the page, so 10,000 loaded devices cost what one screen does; scrolling near the end loads the next page.
import { useInfiniteQuery } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { get } from '../api/client';
import { keys, useSites } from '../api/queries';
import { DEVICE_STATUSES, type DeviceList } from '../api/types';
import { StatusBadge } from '../components/Badges';
import { ProblemMessage, fieldProblem } from '../components/Problem';
import { TimeAgo } from '../components/TimeAgo';
import { can, usePrincipal } from '../auth/session';
import { DeviceDetail } from './DeviceDetail';
import styles from './Devices.module.css';

const PAGE = 100;
const ROW_HEIGHT = 37; // px: one line of text and the badge; rows are measured once drawn, so this is only the first guess

export function Devices() {
  const principal = usePrincipal();
  const { id } = useParams();
  const selected = id ? Number(id) : undefined;
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const filter = {
    status: params.get('status') ?? '',
    site_id: params.get('site_id') ?? '',
    tag: params.get('tag') ?? '',
    q: params.get('q') ?? '',
    sort: params.get('sort') ?? '',
  };
  // The name box filters as the user types, a moment after they pause.
  // The timer calls the setFilter of the newest render: an older one holds the params of its own render (React Router's
  // setSearchParams does too), and would undo an order or status chosen while the timer ran.
  const [name, setName] = useState(filter.q);
  const newestSetFilter = useRef(setFilter);
  newestSetFilter.current = setFilter;
  useEffect(() => {
    if (name === filter.q) return; // nothing to change: a navigation now would undo the user's next click
    const t = setTimeout(() => newestSetFilter.current('q', name), 300);
    return () => clearTimeout(t);
  }, [name]); // eslint-disable-line react-hooks/exhaustive-deps -- runs when the typed name changes, not when the URL does

  function setFilter(key: keyof typeof filter, value: string) {
    if ((params.get(key) ?? '') === value) return;
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        if (value) next.set(key, value);
        else next.delete(key);
        return next;
      },
      { replace: true },
    );
  }

  const sites = useSites();
  const devices = useInfiniteQuery({
    queryKey: keys.devices(filter),
    queryFn: ({ pageParam, signal }) =>
      get<DeviceList>('/api/v1/devices', { ...filter, limit: PAGE, cursor: pageParam }, signal),
    initialPageParam: '' as string,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = devices.data?.pages.flatMap((p) => p.items) ?? [];
  const siteName = new Map((sites.data?.items ?? []).map((s) => [s.id, s.name]));
  const search = params.toString() ? `?${params.toString()}` : '';

  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  // Another filter or order is another list: it starts at its top (at the old scroll offset it would load page after page).
  const listKey = JSON.stringify(filter);
  useEffect(() => virtual.scrollToOffset(0), [listKey]); // eslint-disable-line react-hooks/exhaustive-deps -- the virtualizer is stable
  const drawn = virtual.getVirtualItems();
  const first = drawn[0];
  const last = drawn[drawn.length - 1];
  const lastDrawn = last ? last.index : -1;
  // Within a screen of the end of what is loaded: fetch the next page before the user gets there.
  useEffect(() => {
    if (lastDrawn >= rows.length - 30 && devices.hasNextPage && !devices.isFetchingNextPage) void devices.fetchNextPage();
  }, [lastDrawn, rows.length, devices.hasNextPage, devices.isFetchingNextPage]); // eslint-disable-line react-hooks/exhaustive-deps -- devices is a new object each render
  // Spacer rows stand for the rows not drawn, so the scroll bar is the whole list's. Heights are set through the CSSOM (React's
  // style prop), which the CSP's style-src 'self' allows; an inline style attribute in markup it would not.
  const padTop = first ? first.start : 0;
  const padBottom = last ? virtual.getTotalSize() - last.end : 0;

  return (
    <section className={selected ? styles.split : undefined}>
      <div className={styles.list}>
        <div className="row">
          <h1>Devices</h1>
          <span className="spacer" />
          {can(principal, 'administer') && (
            <>
              <Link className="button" to="/devices/new">
                Provision a device
              </Link>
              <Link className="button" to="/devices/import">
                Import CSV
              </Link>
            </>
          )}
        </div>
        <form className="toolbar" role="search" onSubmit={(e) => e.preventDefault()}>
          <div>
            <label htmlFor="device-name">Name starts with</label>
            <input id="device-name" value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <div>
            <label htmlFor="device-status">Status</label>
            <select id="device-status" value={filter.status} onChange={(e) => setFilter('status', e.target.value)}>
              <option value="">any</option>
              {DEVICE_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="device-site">Site</label>
            <select id="device-site" value={filter.site_id} onChange={(e) => setFilter('site_id', e.target.value)}>
              <option value="">any</option>
              {(sites.data?.items ?? []).map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="device-sort">Order</label>
            <select id="device-sort" value={filter.sort} onChange={(e) => setFilter('sort', e.target.value)}>
              <option value="">as provisioned</option>
              <option value="name">name A–Z</option>
              <option value="-name">name Z–A</option>
              <option value="-last_seen">recently seen first</option>
              <option value="last_seen">longest silent first</option>
            </select>
          </div>
          <div>
            <label htmlFor="device-tag">Tag</label>
            <input
              id="device-tag"
              defaultValue={filter.tag}
              aria-invalid={Boolean(fieldProblem(devices.error, 'tag'))}
              onBlur={(e) => setFilter('tag', e.target.value.trim())}
              onKeyDown={(e) => e.key === 'Enter' && setFilter('tag', e.currentTarget.value.trim())}
            />
          </div>
        </form>
        <ProblemMessage error={devices.error} />
        <div className="panel">
          <div className={styles.scroller} ref={scroller} data-testid="device-scroller">
            <table aria-label="Devices" aria-rowcount={rows.length + 1}>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last seen</th>
                  <th scope="col">Site</th>
                  <th scope="col">Tags</th>
                </tr>
              </thead>
              <tbody>
                {padTop > 0 && (
                  <tr aria-hidden="true" style={{ height: padTop }}>
                    <td colSpan={5} className={styles.spacer} />
                  </tr>
                )}
                {drawn.map(({ index }) => {
                  const d = rows[index];
                  if (!d) return null;
                  return (
                    <tr
                      key={d.id}
                      data-index={index}
                      ref={virtual.measureElement}
                      aria-rowindex={index + 2}
                      className="selectable"
                      aria-selected={d.id === selected}
                      onClick={() => navigate(`/devices/${d.id}${search}`)}
                    >
                      <td>
                        <Link to={`/devices/${d.id}${search}`} onClick={(e) => e.stopPropagation()}>
                          {d.name}
                        </Link>
                      </td>
                      <td>
                        <StatusBadge status={d.status} />
                      </td>
                      <td>
                        <TimeAgo at={d.last_seen_at} />
                      </td>
                      <td>{d.site_id ? siteName.get(d.site_id) ?? '' : ''}</td>
                      <td>{d.tags.join(', ')}</td>
                    </tr>
                  );
                })}
                {padBottom > 0 && (
                  <tr aria-hidden="true" style={{ height: padBottom }}>
                    <td colSpan={5} className={styles.spacer} />
                  </tr>
                )}
              </tbody>
            </table>
          </div>
          {devices.isSuccess && rows.length === 0 && <p className="muted">No device matches.</p>}
          {devices.isPending && <p className="muted">Loading…</p>}
          <p className="row">
            <span className="muted" data-testid="device-count">
              {rows.length} shown{devices.hasNextPage ? ', more below' : ''}
            </span>
            {devices.hasNextPage && (
              <button onClick={() => devices.fetchNextPage()} disabled={devices.isFetchingNextPage}>
                {devices.isFetchingNextPage ? 'Loading…' : `Load ${PAGE} more`}
              </button>
            )}
          </p>
        </div>
      </div>
      {selected !== undefined && (
        <div className={styles.detail}>
          <DeviceDetail id={selected} onClose={() => navigate(`/devices${search}`)} />
        </div>
      )}
    </section>
  );
}
