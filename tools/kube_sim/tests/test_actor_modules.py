"""kube_sim.actors: each actor reaches the cluster only through its Client, and the Runner runs the
switched-on ones when the store changes."""

import ast
import glob
import os
import threading
import unittest

import ksim_helper  # noqa: F401  (puts tools/ on sys.path)
from kube_sim.actors.base import Actor, Runner
from kube_sim.server import ACTORS
from kube_sim.store import Store

ACTOR_DIR = os.path.join(os.path.dirname(ksim_helper.HERE), "actors")
# the server's parts an actor must not import: it talks to them through actors.base.Client
SERVER_PARTS = {"api", "store", "watch", "cluster", "handler", "admission", "server", "tables", "openapi",
                "webhook_client", "loader"}


class ActorBoundaries(unittest.TestCase):
    def test_actor_modules_import_no_server_part(self):
        for path in sorted(glob.glob(os.path.join(ACTOR_DIR, "*.py"))):
            tree = ast.parse(open(path).read())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.level:
                    mod = (node.module or "").split(".")[-1]
                    self.assertNotIn(mod, SERVER_PARTS, "%s imports %s" % (os.path.basename(path), node.module))

    def test_actors_hold_only_their_client(self):
        client = object()
        for cls in ACTORS:
            actor = cls(client)
            self.assertTrue(actor.name, cls.__name__)
            self.assertEqual(vars(actor), {"api": client}, cls.__name__)
        self.assertEqual(len({cls.name for cls in ACTORS}), len(ACTORS))


class Recorder(Actor):
    def __init__(self, name, seen, switchable=True):
        Actor.__init__(self, None)
        self.name, self.seen, self.switchable = name, seen, switchable

    def run(self):
        self.seen.append(self.name)
        if self.name == "last":
            self.seen_all.set()


class RunnerTest(unittest.TestCase):
    def test_runs_switched_on_actors_in_order_after_a_change(self):
        store, seen = Store(10), []
        actors = [Recorder("a", seen), Recorder("off", seen), Recorder("always", seen, switchable=False),
                  Recorder("last", seen)]
        actors[-1].seen_all = threading.Event()
        runner = Runner(store, {}, actors, {"a": True, "off": False, "last": True})
        runner.start()
        try:
            with store.changed:
                store.gen += 1
                store.changed.notify_all()
            self.assertTrue(actors[-1].seen_all.wait(10))
        finally:
            runner.stop()
            runner.thread.join(10)
        self.assertFalse(runner.thread.is_alive())
        self.assertEqual(seen[:3], ["a", "always", "last"])
        self.assertNotIn("off", seen)


if __name__ == "__main__":
    unittest.main()
