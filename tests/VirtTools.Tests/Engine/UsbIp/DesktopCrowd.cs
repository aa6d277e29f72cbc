using System.Diagnostics;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Usb;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Vhci;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>
/// Desktops that each import one device at the same moment, through <see cref="VhciAttacher"/> against the vhci
/// double (the import faked), and then leave at the same moment: what the density tests assert and the bench times
/// (bench/VirtTools.Bench links this file).
/// </summary>
internal sealed class DesktopCrowd
{
    private readonly UsbSpeed _speed;
    private readonly (int PortsNotFree, int Records) _before;

    public DesktopCrowd(SystemRoot root, UsbSpeed speed = UsbSpeed.High)
    {
        Root = root;
        _speed = speed;
        _before = Count();
    }

    public SystemRoot Root { get; }

    /// <summary>Desktops <paramref name="first"/> … first + count − 1 attach at once; each its own bus id and socket number.</summary>
    public CrowdOutcome Attach(int first, int count, TimeSpan deadline) => Run(Enumerable.Range(first, count), deadline, async desktop =>
    {
        var busId = $"1-{desktop % 15 + 1}.{desktop / 15 % 15 + 1}.{desktop / 225 + 1}";
        var importer = new FakeImporter(FakeImporter.Device(busId, _speed), socketFd: 1000 + desktop);
        return await new VhciAttacher(Root, importer).ConnectAsync("192.0.2.10", 3240, UsbBusId.Parse(busId), TimeSpan.FromSeconds(5)).ConfigureAwait(false);
    });

    /// <summary>The desktops holding <paramref name="ports"/> detach them at once.</summary>
    public CrowdOutcome Detach(IEnumerable<UsbIpPort> ports, TimeSpan deadline)
    {
        var attacher = new VhciAttacher(Root, new FakeImporter(FakeImporter.Device()));
        return Run(ports, deadline, port =>
        {
            attacher.Disconnect(port);
            return Task.FromResult(port);
        });
    }

    /// <summary>Ports not free and attach records in /run/vhci_hcd beyond those there before the crowd came: what it leaked.</summary>
    public (int PortsNotFree, int Records) Leftovers()
    {
        var now = Count();
        return (now.PortsNotFree - _before.PortsNotFree, now.Records - _before.Records);
    }

    private (int PortsNotFree, int Records) Count() =>
        (new VhciReader(Root).GetPorts().Count(p => !p.IsFree), Root.Directory(VhciPortRecord.WriteDirectory).EntryNames().Count);

    private static CrowdOutcome Run<T>(IEnumerable<T> work, TimeSpan deadline, Func<T, Task<UsbIpPort>> each)
    {
        var clock = Stopwatch.StartNew();
        var tasks = work.Select(item => Task.Run(() => each(item))).ToList();
        // Bounded: a wedged attacher fails the run instead of hanging it.
        if (!Task.WhenAll(tasks).ContinueWith(_ => { }, TaskScheduler.Default).Wait(deadline))
            throw new TimeoutException($"{tasks.Count(t => !t.IsCompleted)} of {tasks.Count} desktops did not finish within {deadline}.");
        var elapsed = clock.Elapsed;
        var done = tasks.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result).ToList();
        var refused = tasks.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException)
            .Select(e => e is VirtToolsException v ? v.ErrorId : e!.GetType().Name).ToList();
        return new CrowdOutcome(done, refused, elapsed);
    }
}

/// <summary>The ports the desktops got (or gave up), the ErrorIds of those refused, and the wall time until the last finished.</summary>
internal sealed record CrowdOutcome(IReadOnlyList<UsbIpPort> Ports, IReadOnlyList<string> Refused, TimeSpan Elapsed)
{
    /// <summary>Ports handed to more than one desktop: never, if the attacher's EBUSY retry holds.</summary>
    public int SharedPorts => Ports.Count - Ports.Select(p => p.Port).Distinct().Count();
}
