using VirtTools.Sandbox;
using VirtTools.Sysfs;
using VirtTools.Tests.Engine.UsbIp;
using VirtTools.UsbIp.Vhci;

namespace VirtTools.Bench;

/// <summary>
/// 400 desktops (issue 16) attach at once through the engine's <see cref="VhciAttacher"/> against the vhci double,
/// then half of them leave while 200 more arrive, then all leave: the time to place them and every port or record
/// leaked. Twice: on Debian's build (the captured tree, 8 controllers × 15 ports per hub), where 280 of them must be
/// refused with VhciNoFreePort, and on the build Get-UsbIpCapacity -Desktops 400 plans for it (27 × 15).
/// </summary>
public sealed class DensitySuite : BenchSuite
{
    public const string Name = "density";

    private const int Desktops = 400;

    /// <summary>Bounds each phase: the double places 400 in seconds even on a loaded 2-core machine.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(5);

    public DensitySuite(BenchOptions options, Report report) : base(options, report) { }

    public override void Run()
    {
        var debian = VirtHostSandbox.FromFixture(Path.Combine(Options.WorkFolder, "density-debian"));
        var plan = VhciCapacityPlanner.Plan(new SystemRoot(debian.Root), new VhciCapacityTarget(Desktops))[0].Needs!;
        Place($"{Desktops} desktops on Debian's build (captured tree: 8 × 15 per hub, port 15 taken)", new SystemRoot(debian.Root));
        debian.Remove();

        var planned = Path.Combine(Options.WorkFolder, "density-planned");
        if (Directory.Exists(planned)) Directory.Delete(planned, recursive: true);
        Directory.CreateDirectory(planned);
        var sandbox = VirtHostSandbox.Adopt(planned, "bench:density");
        sandbox.Kernel.Usb.AddVhci(plan.Controllers, plan.PortsPerController);
        Place($"{Desktops} desktops on the build Get-UsbIpCapacity plans ({plan.Controllers} × {plan.PortsPerController} per hub)", new SystemRoot(sandbox.Root));
        sandbox.Remove();
    }

    private void Place(string what, SystemRoot root)
    {
        var crowd = new DesktopCrowd(root);
        var arrive = crowd.Attach(0, Desktops, Deadline);
        Report.Add(new Row(Name, $"{what}: place all at once", Timing.Milliseconds(arrive.Elapsed.TotalMilliseconds), "", "",
            $"{arrive.Ports.Count} placed, {Refusals(arrive)}; {arrive.SharedPorts} ports given twice"));

        var half = arrive.Ports.Count / 2;
        var leaving = Task.Run(() => crowd.Detach(arrive.Ports.Take(half), Deadline));
        var churn = crowd.Attach(Desktops, half, Deadline);
        var left = leaving.GetAwaiter().GetResult();
        Report.Add(new Row(Name, $"{what}: {half} leave while {half} arrive", Timing.Milliseconds(Math.Max(left.Elapsed.TotalMilliseconds, churn.Elapsed.TotalMilliseconds)), "", "",
            $"{churn.Ports.Count} placed, {Refusals(churn)}; {left.Refused.Count} detaches refused"));

        var rest = crowd.Detach(arrive.Ports.Skip(half).Concat(churn.Ports), Deadline);
        var (ports, records) = crowd.Leftovers();
        Report.Add(new Row(Name, $"{what}: all leave at once", Timing.Milliseconds(rest.Elapsed.TotalMilliseconds), "", "",
            $"leaked: {ports} ports not free, {records} attach records; {rest.Refused.Count} detaches refused"));
    }

    private static string Refusals(CrowdOutcome outcome) => outcome.Refused.Count == 0 ? "none refused"
        : string.Join(", ", outcome.Refused.GroupBy(id => id).Select(g => $"{g.Count()} {g.Key}"));
}
