using System.Net;
using VirtTools.UsbIp.Server;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>The slot rules, one by one, without sockets: a slot's "has it sent anything" is a flag the test sets.</summary>
public sealed class ServerConnectionSlotsTests
{
    private static readonly IPAddress A = IPAddress.Parse("127.0.0.1");
    private static readonly IPAddress B = IPAddress.Parse("127.0.0.3");

    private static ConnectionSlots.Slot Take(ConnectionSlots slots, IPAddress peer, out ConnectionSlots.Slot? evicted, bool sent = false)
    {
        var slot = slots.TryTake(peer, () => sent, out evicted, out var refusal);
        Assert.True(slot is not null, $"refused: {refusal}");
        return slot!;
    }

    [Fact]
    public void A_client_at_its_limit_gives_up_its_oldest_silent_connection_for_a_new_one()
    {
        var slots = new ConnectionSlots(total: 100, reserved: 10, perClient: 3);
        var first = Take(slots, A, out _);
        var second = Take(slots, A, out _);
        Take(slots, A, out _);
        Take(slots, B, out var none);
        Assert.Null(none);

        Take(slots, A, out var evicted);
        Assert.Same(first, evicted);
        Take(slots, A, out evicted);
        Assert.Same(second, evicted);
        Assert.Equal(4, slots.Held);
    }

    [Fact]
    public void A_connection_that_has_sent_bytes_or_is_serving_is_spared()
    {
        var slots = new ConnectionSlots(total: 100, reserved: 10, perClient: 3);
        Take(slots, A, out _, sent: true);
        var serving = Take(slots, A, out _);
        Assert.True(slots.StartServing(serving));
        var silent = Take(slots, A, out _);

        Take(slots, A, out var evicted);
        Assert.Same(silent, evicted);
    }

    [Fact]
    public void A_client_whose_connections_are_all_busy_is_refused_at_its_limit()
    {
        var slots = new ConnectionSlots(total: 100, reserved: 10, perClient: 2);
        Assert.True(slots.StartServing(Take(slots, A, out _)));
        Take(slots, A, out _, sent: true);
        Assert.Null(slots.TryTake(A, () => false, out var evicted, out var refusal));
        Assert.Null(evicted);
        Assert.Equal(PeerEvent.ClientLimit, refusal);
        Take(slots, B, out _); // another client is not held back
    }

    [Fact]
    public void Waiting_connections_never_take_the_reserve_and_the_oldest_silent_one_anywhere_gives_way()
    {
        var slots = new ConnectionSlots(total: 6, reserved: 2, perClient: 3);
        var oldest = Take(slots, A, out _);
        Take(slots, A, out _);
        Take(slots, B, out _);
        Take(slots, B, out _);
        Assert.Equal(4, slots.WaitingLimit);

        var c = IPAddress.Parse("127.0.0.4");
        Take(slots, c, out var evicted);
        Assert.Same(oldest, evicted);
        Assert.Equal(4, slots.Held);
    }

    [Fact]
    public void Requests_being_served_use_the_reserve_and_a_full_server_of_busy_connections_refuses()
    {
        var slots = new ConnectionSlots(total: 3, reserved: 1, perClient: 10);
        Assert.True(slots.StartServing(Take(slots, A, out _)));
        Assert.True(slots.StartServing(Take(slots, A, out _)));
        Assert.True(slots.StartServing(Take(slots, B, out _))); // the reserved slot, reached by waiting first
        Assert.Equal(3, slots.Held);
        Assert.Null(slots.TryTake(B, () => false, out var evicted, out var refusal));
        Assert.Null(evicted);
        Assert.Equal(PeerEvent.ServerFull, refusal);
    }

    [Fact]
    public void An_evicted_slot_cannot_start_serving_and_its_release_frees_nothing_twice()
    {
        var slots = new ConnectionSlots(total: 10, reserved: 1, perClient: 1);
        var first = Take(slots, A, out _);
        var second = Take(slots, A, out var evicted);
        Assert.Same(first, evicted);
        Assert.False(slots.StartServing(first));
        slots.Release(first);
        Assert.Equal(1, slots.Held);
        slots.Release(second);
        slots.Release(second);
        Assert.Equal(0, slots.Held);
        Take(slots, A, out evicted);
        Assert.Null(evicted);
    }

    [Theory]
    [InlineData(0, 0, 1)]
    [InlineData(10, 10, 1)]
    [InlineData(10, -1, 1)]
    [InlineData(10, 1, 0)]
    public void Limits_that_could_serve_no_one_are_refused(int total, int reserved, int perClient) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConnectionSlots(total, reserved, perClient));
}
