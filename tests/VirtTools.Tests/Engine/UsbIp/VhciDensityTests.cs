using VirtTools.UsbIp.Vhci;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>Many desktops attaching and detaching at once through the engine, against the vhci double.</summary>
public sealed class VhciDensityTests
{
    /// <summary>Generous for CI: the same work takes well under a second on an idle machine (bench/ has the figure).</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static Double Host(int controllers)
    {
        var kernel = Double.OnEmptyTree();
        kernel.Usb.AddVhci(controllers, portsPerHub: 15);
        return kernel;
    }

    [Fact]
    public void Desktops_attaching_at_once_each_get_a_port_of_their_own()
    {
        using var kernel = Host(controllers: 3);
        var crowd = new DesktopCrowd(kernel.Root);
        var placed = crowd.Attach(0, 45, Deadline);
        Assert.Empty(placed.Refused);
        Assert.Equal((45, 0), (placed.Ports.Count, placed.SharedPorts));
        Assert.All(placed.Ports, p => Assert.True(p.IsInUse));
    }

    [Fact]
    public void Past_the_last_port_each_further_desktop_is_refused_with_VhciNoFreePort()
    {
        using var kernel = Host(controllers: 2);
        var outcome = new DesktopCrowd(kernel.Root).Attach(0, 40, Deadline);
        Assert.Equal((30, 0), (outcome.Ports.Count, outcome.SharedPorts));
        Assert.Equal(Enumerable.Repeat(VhciErrors.NoFreePort, 10), outcome.Refused);
    }

    [Fact]
    public async Task Desktops_leaving_while_others_arrive_leak_no_port_and_no_record()
    {
        using var kernel = Host(controllers: 2);
        var crowd = new DesktopCrowd(kernel.Root);
        var first = crowd.Attach(0, 30, Deadline);
        var leaving = Task.Run(() => crowd.Detach(first.Ports.Take(15), Deadline));
        var arriving = crowd.Attach(30, 15, Deadline);
        Assert.Empty((await leaving).Refused);
        // An arrival that finds every port still taken is refused as the kernel would; none is refused otherwise.
        Assert.Equal(15, arriving.Ports.Count + arriving.Refused.Count);
        Assert.All(arriving.Refused, id => Assert.Equal(VhciErrors.NoFreePort, id));
        var stillHeld = first.Ports.Skip(15).Concat(arriving.Ports).ToList();
        Assert.Equal(stillHeld.Count, stillHeld.Select(p => p.Port).Distinct().Count());
        Assert.Empty(crowd.Detach(stillHeld, Deadline).Refused);
        Assert.Equal((0, 0), crowd.Leftovers());
    }
}
