using System.Net;

namespace VirtTools.UsbIp.Server;

/// <summary>
/// Who holds the server's connection slots. Only allowed clients get one (denied peers are closed before this).
/// A slot is waiting until its request header has arrived, then serving until the reply is out. Waiting slots are the
/// cheap thing to attack, so they are bounded three ways: at most <c>perClient</c> per address (serving ones count
/// too), and never the last <c>reserved</c> of the <c>total</c>, which are kept for requests being served. When a new
/// connection finds its address or the waiting pool full, the oldest silent waiting connection there gives way (one
/// with bytes already received is about to be served and is spared). So a flood of silent connections keeps
/// recycling itself, and a client that sends its request at once, as usbip does, is served.
/// </summary>
internal sealed class ConnectionSlots
{
    /// <summary>How many of the oldest waiting connections a new one looks through for a silent one to replace.</summary>
    private const int VictimSearch = 16;

    private readonly object _gate = new();
    private readonly LinkedList<Slot> _waiting = new();
    private readonly Dictionary<IPAddress, Client> _clients = new();
    private int _held;

    public ConnectionSlots(int total, int reserved, int perClient)
    {
        if (total < 1 || reserved < 0 || reserved >= total || perClient < 1)
            throw new ArgumentOutOfRangeException(nameof(total), $"{total} slots with {reserved} reserved and {perClient} per client cannot serve anyone.");
        Total = total;
        WaitingLimit = total - reserved;
        PerClient = perClient;
    }

    public int Total { get; }

    /// <summary>The slots waiting connections may take: the total less the reserve.</summary>
    public int WaitingLimit { get; }

    public int PerClient { get; }

    /// <summary>Slots held right now, waiting or serving.</summary>
    public int Held
    {
        get { lock (_gate) return _held; }
    }

    /// <summary>
    /// A waiting slot for a new connection from <paramref name="peer"/>, or null with the reason it was refused.
    /// <paramref name="evicted"/> is the connection that made room: the caller closes it.
    /// </summary>
    /// <param name="hasReceived">Whether the connection has bytes waiting to be read (its request is on the way).</param>
    public Slot? TryTake(IPAddress peer, Func<bool> hasReceived, out Slot? evicted, out PeerEvent refusal)
    {
        evicted = null;
        refusal = default;
        lock (_gate)
        {
            _clients.TryGetValue(peer, out var client);
            if (client is not null && client.Held >= PerClient)
            {
                evicted = OldestSilent(client.Waiting);
                if (evicted is null)
                {
                    refusal = PeerEvent.ClientLimit;
                    return null;
                }
                Release(evicted);
            }
            else if (_waiting.Count >= WaitingLimit || _held >= Total)
            {
                evicted = OldestSilent(_waiting);
                if (evicted is null)
                {
                    refusal = PeerEvent.ServerFull;
                    return null;
                }
                Release(evicted);
            }
            if (client is null || client.Held == 0) _clients[peer] = client = new Client();
            var slot = new Slot(peer, hasReceived);
            slot.InServer = _waiting.AddLast(slot);
            slot.InClient = client.Waiting.AddLast(slot);
            client.Held++;
            _held++;
            return slot;
        }
    }

    /// <summary>The request header arrived: the slot serves now and no longer gives way. False when it was evicted.</summary>
    public bool StartServing(Slot slot)
    {
        lock (_gate)
        {
            if (slot.Released) return false;
            Unlink(slot);
            return true;
        }
    }

    /// <summary>The connection is closed; its slot is free (nothing when it was evicted already).</summary>
    public void Release(Slot slot)
    {
        lock (_gate)
        {
            if (slot.Released) return;
            slot.Released = true;
            Unlink(slot);
            var client = _clients[slot.Peer];
            if (--client.Held == 0) _clients.Remove(slot.Peer);
            _held--;
        }
    }

    private void Unlink(Slot slot)
    {
        if (slot.InServer is { } inServer) _waiting.Remove(inServer);
        if (slot.InClient is { } inClient) inClient.List!.Remove(inClient);
        slot.InServer = slot.InClient = null;
    }

    private static Slot? OldestSilent(LinkedList<Slot> waiting)
    {
        var looked = 0;
        for (var candidate = waiting.First; candidate is not null && looked < VictimSearch; candidate = candidate.Next, looked++)
            if (!candidate.Value.HasReceived()) return candidate.Value;
        return null;
    }

    private sealed class Client
    {
        public LinkedList<Slot> Waiting { get; } = new();

        public int Held { get; set; }
    }

    /// <summary>One connection's place; <see cref="Eviction"/> is cancelled when it must give way.</summary>
    internal sealed class Slot(IPAddress peer, Func<bool> hasReceived)
    {
        public IPAddress Peer { get; } = peer;

        public CancellationTokenSource Eviction { get; } = new();

        /// <summary>True once the slot is free again, by the connection's end or its eviction.</summary>
        public bool Released { get; set; }

        public bool HasReceived() => hasReceived();

        internal LinkedListNode<Slot>? InServer { get; set; }

        internal LinkedListNode<Slot>? InClient { get; set; }
    }
}
