using VirtTools.Diagnostics;
using VirtTools.Pci;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Diagnostics;

/// <summary>/dev/kmsg read as the engine reads it, on a tree whose dev/kmsg is a file in the kmsg format.</summary>
public sealed class KernelLogTests : IDisposable
{
    private readonly TemporaryTree _tree = new("kmsg");

    private SystemRoot Root => new(_tree.Path);

    private void Log(string text) => File.AppendAllText(_tree.Resolve("/dev/kmsg"), text);

    [Fact]
    public void Opened_at_the_end_it_reads_only_what_is_logged_afterwards()
    {
        _tree.File("/dev/kmsg", "6,1,100,-;before the operation");
        using var log = KernelLog.OpenAtEnd(Root)!;
        Log("3,2,200,-;vfio-pci 0000:05:00.0: during the operation\n");
        var record = Assert.Single(log.Records(100, 1 << 20));
        Assert.Equal("vfio-pci 0000:05:00.0: during the operation", record.Message);
    }

    [Fact]
    public void Opened_at_the_start_it_reads_every_record_in_order()
    {
        _tree.File("/dev/kmsg", "6,1,100,-;first\n6,2,200,-;second\n");
        using var log = KernelLog.OpenAtStart(Root)!;
        Assert.Equal(new[] { "first", "second" }, log.Records(100, 1 << 20).Select(r => r.Message));
    }

    [Fact]
    public void Key_value_lines_belong_to_their_record_and_name_the_device()
    {
        _tree.File("/dev/kmsg", "3,7,300,-;probe failed with error -22\n SUBSYSTEM=pci\n DEVICE=+pci:0000:05:00.0\n6,8,301,-;next\n");
        using var log = KernelLog.OpenAtStart(Root)!;
        var records = log.Records(100, 1 << 20).ToList();
        Assert.Equal(2, records.Count);
        Assert.True(records[0].Mentions("0000:05:00.0"));
        Assert.False(records[1].Mentions("0000:05:00.0"));
        Assert.Equal(new[] { "SUBSYSTEM=pci", "DEVICE=+pci:0000:05:00.0" }, records[0].Properties);
    }

    [Fact]
    public void Reading_stops_at_the_record_limit_however_much_was_logged()
    {
        _tree.File("/dev/kmsg", string.Concat(Enumerable.Range(1, 5000).Select(i => $"6,{i},0,-;line {i}\n")));
        using var log = KernelLog.OpenAtStart(Root)!;
        Assert.Equal(10, log.Records(10, 1 << 20).Count());
    }

    [Fact]
    public void Reading_stops_at_the_byte_limit_however_long_the_records()
    {
        _tree.File("/dev/kmsg", string.Concat(Enumerable.Range(1, 100).Select(i => $"6,{i},0,-;{new string('x', 1000)}\n")));
        using var log = KernelLog.OpenAtStart(Root)!;
        Assert.InRange(log.Records(1000, 10_000).Count(), 1, 11);
    }

    [Fact]
    public void A_tree_without_a_kernel_log_gives_none_rather_than_this_machine_s()
    {
        Assert.Null(KernelLog.OpenAtEnd(Root));
    }

    [Fact]
    public void Lines_that_are_not_kmsg_records_are_skipped()
    {
        _tree.File("/dev/kmsg", "garbage without a prefix\n6,1,0,-;real\n");
        using var log = KernelLog.OpenAtStart(Root)!;
        Assert.Equal("real", Assert.Single(log.Records(10, 1 << 20)).Message);
    }

    [Fact]
    public void A_bind_error_quotes_only_the_function_s_own_lines_and_at_most_eight()
    {
        _tree.File("/dev/kmsg", "6,1,0,-;vfio-pci 0000:05:00.0: from before\n");
        using var log = KernelLog.OpenAtEnd(Root);
        Log("6,2,0,-;e1000 0000:00:02.0 eth0: another device\n");
        Log(string.Concat(Enumerable.Range(1, 12).Select(i => $"3,{i + 2},0,-;vfio-pci 0000:05:00.0: line {i}\n")));
        var said = PassthroughApplier.KernelSaid(log, PciAddress.Parse("0000:05:00.0"));
        Assert.StartsWith(" The kernel said: vfio-pci 0000:05:00.0: line 5 | ", said);
        Assert.EndsWith("line 12.", said);
        Assert.DoesNotContain("another device", said);
        Assert.DoesNotContain("from before", said);
    }

    [Fact]
    public void No_log_or_no_line_about_the_function_adds_nothing()
    {
        Assert.Equal("", PassthroughApplier.KernelSaid(null, PciAddress.Parse("0000:05:00.0")));
        _tree.File("/dev/kmsg", "");
        using var log = KernelLog.OpenAtEnd(Root);
        Log("6,1,0,-;unrelated\n");
        Assert.Equal("", PassthroughApplier.KernelSaid(log, PciAddress.Parse("0000:05:00.0")));
    }

    public void Dispose() => _tree.Dispose();
}
