"""service/tuning/outbox_wakeups.py: an idle tab's NiceGUI outbox sleeps until there is something to send."""

import asyncio


async def test_an_idle_customers_outbox_sleeps_until_there_is_something_to_send_and_stops_at_once(user):
    await user.open('/')
    await user.should_see('Passwort vergessen?')
    client = user.client
    [loop_task] = [t for t in asyncio.all_tasks() if t.get_name() == f'outbox loop {client.id}']

    class Counting(type(client.outbox)):
        """Counts the outbox loop's rounds: each begins by reading `_should_stop`."""

        rounds = 0

        @property
        def _should_stop(self):
            Counting.rounds += 1
            return self.__dict__['_should_stop']

        @_should_stop.setter
        def _should_stop(self, value):
            self.__dict__['_should_stop'] = value

    await asyncio.sleep(0.1)
    client.outbox.__class__ = Counting
    await asyncio.sleep(1.5)
    assert Counting.rounds == 0  # NiceGUI's own loop looks again every second

    sent = []
    original = client.outbox._emit

    async def emit(message):
        sent.append(message[1])
        await original(message)

    client.outbox._emit = emit
    client.run_javascript('void 0')
    await asyncio.sleep(0.1)
    assert Counting.rounds >= 1 and sent == ['run_javascript']

    client.delete()
    await asyncio.sleep(0.05)
    assert loop_task.done()
