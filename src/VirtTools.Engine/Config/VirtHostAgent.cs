using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Usb;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Containers;
using VirtTools.UsbIp.Vhci;

namespace VirtTools.Config;

/// <summary>
/// Keeps a host profile true over time, one <see cref="Pass"/> at a time (the `virttools agent` daemon calls it every
/// few seconds): KSM and PCI passthrough are applied on the first pass after a (re)load; exports on every pass, so a
/// device unplugged and plugged back (a new bus id, the same ids and serial) is exported again; attachments on the
/// first pass, and on every pass after that when the rule says <c>reconnect: true</c>. A failed item waits under a
/// bounded exponential backoff before it is tried again, so a server that is down is not hammered. Each pass also
/// detaches the ports given to containers that no longer run (see <see cref="ContainerUsbAttacher.DetachOrphans"/>)
/// and keeps what containers were given true to their devices (see <see cref="ContainerGrantKeeper"/>).
/// </summary>
public sealed class VirtHostAgent
{
    private readonly VirtHostSync _sync;
    private readonly Action<string> _log;
    private readonly TimeProvider _time;
    private readonly SystemRoot _root;
    private readonly IContainerDevices? _containers;
    private VirtHostConfig? _config;
    private bool _firstPass;

    /// <param name="containers">The container manager asked whether the containers that hold ports still run; null asks none.</param>
    public VirtHostAgent(SystemRoot root, IUsbIpExportApplier exporter, IUsbIpAttachmentApplier attacher, Action<string> log, TimeProvider? time = null,
        IContainerDevices? containers = null)
    {
        _sync = new VirtHostSync(root, exporter, attacher);
        _root = root;
        _containers = containers;
        _log = log;
        _time = time ?? TimeProvider.System;
    }

    public RetryBackoff Backoff { get; private set; } = new();

    /// <summary>Takes a (new) profile: the next pass applies all of it, and earlier failures are forgotten.</summary>
    public void Load(VirtHostConfig config)
    {
        _config = config;
        _firstPass = true;
        Backoff = new RetryBackoff { First = Backoff.First, Limit = Backoff.Limit };
    }

    /// <summary>
    /// Compares the profile with the host and applies what this pass may apply. Never throws for what the host,
    /// the profile or a peer does: this is the agent's one boundary. An item that fails is logged against the item
    /// and backs off on its own; a pass that fails as a whole (a profile that cannot be applied as a whole, such as
    /// an export match that fits several devices, or anything a reading of the host throws) is logged and backs off
    /// as one item, the start-up items still owed. Only the caller's cancellation ends a pass early. Returns the
    /// drift after the pass.
    /// </summary>
    public IReadOnlyList<VirtHostDrift> Pass(CancellationToken cancellation = default)
    {
        if (_config is not { } config) return Array.Empty<VirtHostDrift>();
        var now = _time.GetUtcNow();
        if (!Backoff.IsDue(PassKey, now)) return Array.Empty<VirtHostDrift>();
        KeepContainers(now, cancellation);
        var first = _firstPass;
        _firstPass = false;
        var reconnecting = (config.UsbIp?.Attachments ?? Array.Empty<UsbIpAttachmentRule>())
            .Where(rule => rule.Reconnect && rule.Location is not null).Select(rule => rule.Location!).ToHashSet(StringComparer.Ordinal);

        IReadOnlyList<VirtHostDrift> after;
        try
        {
            after = _sync.Sync(config, (drift, _) => MayApply(drift, first, reconnecting, now), cancellation);
        }
        catch (Exception failure) when (!(failure is OperationCanceledException && cancellation.IsCancellationRequested))
        {
            var wait = Backoff.Failed(PassKey, now);
            _log(failure is VirtToolsException refused
                ? $"profile not applied: {refused.Message} (next try in {wait.TotalSeconds:0.#} s)"
                : $"pass failed: {failure.GetType().Name}: {failure.Message} (next try in {wait.TotalSeconds:0.#} s)");
            if (first) _firstPass = true; // nothing was applied: the start-up items are still owed
            return Array.Empty<VirtHostDrift>();
        }
        Backoff.Succeeded(PassKey);
        // Sync reports an item whose plan was refused whether or not this pass would have applied it: only an item
        // this pass tried is logged and backs off, so a refused KSM item is logged once, not on every pass.
        foreach (var item in after.Where(item => item.Outcome == SyncOutcome.Applied || MayApply(item, first, reconnecting, now))) Record(item, now);
        return after;
    }

    /// <summary>
    /// A container that stopped took its nodes and cgroup with it, but the port still holds the device: detach it,
    /// so the port is free and a profile rule with reconnect attaches it again once the container runs. Then the
    /// grants are kept true (<see cref="ContainerGrantKeeper"/>): a device gone on its own is taken back from its
    /// container, nodes that appeared late are given. Failures (LXC missing, a tool that hangs) back off as one item.
    /// </summary>
    private void KeepContainers(DateTimeOffset now, CancellationToken cancellation)
    {
        if (_containers is null || !Backoff.IsDue(ContainersKey, now)) return;
        var ports = new VhciReader(_root).GetPorts().Where(p => p.IsInUse && p.Container is not null).ToList();
        if (ports.Count == 0 && ContainerGrantLedger.Read(_root).Count == 0) return;
        try
        {
            var vhci = new VhciAttacher(_root, UsbIpClient.Importer);
            foreach (var port in new ContainerUsbAttacher(vhci, _containers).DetachOrphans(ports, cancellation))
                _log($"detached: {port} ({port.RemoteBusId} from {port.RemoteHost}): its container {port.Container} no longer runs");
            foreach (var change in new ContainerGrantKeeper(vhci, _containers).Keep(null, cancellation))
                _log(Describe(change));
            Backoff.Succeeded(ContainersKey);
        }
        catch (Exception failure) when (failure is VirtToolsException or IOException or UnauthorizedAccessException)
        {
            var wait = Backoff.Failed(ContainersKey, now);
            _log($"failed: keeping the containers' devices: {failure.Message} (next try in {wait.TotalSeconds:0.#} s)");
        }
    }

    private static string Describe(ContainerGrantChange change)
    {
        static string Paths(IEnumerable<DeviceNode> nodes) => string.Join(' ', nodes.Select(n => n.Path));
        var device = $"port {change.Port} ({change.BusId}) of {change.Container}";
        if (change.ContainerGone) return $"forgotten: {device}: the container stopped, its nodes went with it";
        if (change.DeviceGone) return $"taken back: {device}: the device went away; {Paths(change.TakenBack)} removed and denied";
        return $"updated: {device}:"
            + (change.Added.Count > 0 ? $" given {Paths(change.Added)} (appeared late)" : "")
            + (change.TakenBack.Count > 0 ? $" took back {Paths(change.TakenBack)} (went away)" : "");
    }

    private const string ContainersKey = "(containers)";

    private bool MayApply(VirtHostDrift drift, bool first, HashSet<string> reconnecting, DateTimeOffset now)
    {
        if (!Backoff.IsDue(Key(drift), now)) return false;
        return drift.Area switch
        {
            VirtHostArea.UsbIpExport => true,
            VirtHostArea.UsbIpAttachment => first || (drift.Location is { } location && reconnecting.Contains(location)),
            _ => first,
        };
    }

    private void Record(VirtHostDrift item, DateTimeOffset now)
    {
        var key = Key(item);
        switch (item.Outcome)
        {
            case SyncOutcome.Applied:
                var retried = Backoff.FailuresOf(key);
                Backoff.Succeeded(key);
                _log($"applied: {item.Action}{(retried > 0 ? $" (after {retried} failed attempt{(retried == 1 ? "" : "s")})" : "")}");
                break;
            case SyncOutcome.Failed or SyncOutcome.RolledBack:
                var wait = Backoff.Failed(key, now);
                _log($"{(item.Outcome == SyncOutcome.Failed ? "failed" : "rolled back")}: {item.Action ?? item.Item}: {item.Message} (next try in {wait.TotalSeconds:0.#} s)");
                break;
        }
    }

    /// <summary>The backoff key of a pass that failed as a whole; item keys are profile locations ("host.yaml:4:7") or "Area Item".</summary>
    private const string PassKey = "(pass)";

    private static string Key(VirtHostDrift drift) => drift.Location ?? $"{drift.Area} {drift.Item}";
}
