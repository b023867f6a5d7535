"""The grader's kernel client (`keras_course.grading.kernel_client`): ready as soon as the kernel
is, with nothing of the kernel's start-up mixed into the first cell, and a kernel that dies
before it answers is reported, not waited for. A real ipykernel, started by jupyter_client."""
from __future__ import annotations

import asyncio

import pytest
from jupyter_client.manager import AsyncKernelManager

from keras_course.grading.kernel_client import ReadyKernelClient


async def _run_first_cell(km: AsyncKernelManager) -> list[dict]:
    """Start the kernel, wait until the client says it is ready, run one cell; the IOPub
    messages that arrive until that cell's idle status."""
    await km.start_kernel()
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        asked = client.execute("print('one')\n1 + 1")
        seen = []
        while True:
            msg = await client.get_iopub_msg(timeout=30)
            seen.append(msg)
            if (msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"
                    and msg["parent_header"].get("msg_id") == asked):
                return seen
    finally:
        client.stop_channels()
        await km.shutdown_kernel(now=True)


def manager(folder) -> AsyncKernelManager:
    """A kernel manager whose kernel talks through Unix sockets in `folder`."""
    return AsyncKernelManager(client_factory=ReadyKernelClient, transport="ipc",
                              ip=str(folder / "ipc"),
                              connection_file=str(folder / "kernel.json"))


def test_a_kernel_is_ready_for_its_first_cell_and_that_cell_gets_every_output(tmp_path):
    km = manager(tmp_path)
    seen = asyncio.run(_run_first_cell(km))
    ours = [m for m in seen if m["msg_type"] in ("stream", "execute_result")]
    assert [m["msg_type"] for m in ours] == ["stream", "execute_result"]
    assert ours[0]["content"]["text"] == "one\n"
    assert ours[1]["content"]["data"]["text/plain"] == "2"


def test_a_kernel_that_dies_before_it_answers_is_reported(tmp_path):
    km = manager(tmp_path)

    async def start() -> None:  # the kernel exits while it initialises, before it answers
        await km.start_kernel(extra_arguments=["--IPKernelApp.exec_lines=import os; os._exit(3)"])
        client = km.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
        finally:
            client.stop_channels()
            await km.cleanup_resources()

    with pytest.raises(RuntimeError, match="died"):
        asyncio.run(start())
