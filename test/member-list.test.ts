/** The intrusive list of a collection's members. Pure unit tests. */
import test from 'ava';
import fc from 'fast-check';
import { MemberList, type CollectionMember } from '../packages/core/src/collection/member-list.js';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';

checkNoLeaksAfterAll(test);

class Member implements CollectionMember {
  previousMember: CollectionMember | null = null;
  nextMember: CollectionMember | null = null;
  constructor(readonly id: number) {}
  closeForCollection(): void {}
}

test('add keeps the order, ignores a second add, and delete unlinks from the front, middle and back', (t) => {
  const list = new MemberList();
  const [a, b, c, d] = [new Member(1), new Member(2), new Member(3), new Member(4)];
  for (const m of [a, b, c, d]) list.add(m);
  list.add(b);
  t.is(list.size, 4);
  t.deepEqual(list.toArray(), [a, b, c, d]);
  list.delete(b);
  t.deepEqual(list.toArray(), [a, c, d]);
  list.delete(a);
  list.delete(d);
  t.deepEqual(list.toArray(), [c]);
  t.true(list.has(c));
  t.false(list.has(a));
  list.delete(a);
  t.is(list.size, 1);
  list.delete(c);
  t.is(list.size, 0);
  t.deepEqual(list.toArray(), []);
  t.is(c.previousMember, null);
  t.is(c.nextMember, null);
});

test('takeAll empties the list and unlinks every member, so a later delete is a no-op and a re-add works', (t) => {
  const list = new MemberList();
  const members = [new Member(1), new Member(2), new Member(3)];
  for (const m of members) list.add(m);
  t.deepEqual(list.takeAll(), members);
  t.is(list.size, 0);
  for (const m of members) {
    t.false(list.has(m));
    list.delete(m);
  }
  t.is(list.size, 0);
  list.add(members[1] as Member);
  t.deepEqual(list.toArray(), [members[1]]);
});

test('random adds and deletes agree with a Set', (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 15 })), { maxLength: 200 }), (steps) => {
      const members = Array.from({ length: 16 }, (_, i) => new Member(i));
      const list = new MemberList();
      const model = new Set<Member>();
      for (const [add, index] of steps) {
        const m = members[index] as Member;
        if (add) {
          list.add(m);
          model.add(m);
        } else {
          list.delete(m);
          model.delete(m);
        }
        if (list.size !== model.size) return false;
      }
      const listed = list.toArray();
      return listed.length === model.size && listed.every((m, i) => m === [...model][i]);
    }),
  );
  t.pass();
});
