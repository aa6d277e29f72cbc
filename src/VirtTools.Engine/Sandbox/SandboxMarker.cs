using System.Text.Json;

namespace VirtTools.Sandbox;

/// <summary>
/// The file at the top of a sandbox tree (<c>&lt;root&gt;/.virttools-sandbox.json</c>) that makes its root a sandbox:
/// every process that writes under that root gets the <see cref="SandboxKernel"/> instead of the real file writer.
/// The live root "/" is never one (<see cref="SandboxKernel.For"/> does not look). The id tells a new sandbox made at a
/// reused path from the one before it.
/// </summary>
public sealed record SandboxMarker(Guid Id, string Source, DateTimeOffset Created)
{
    public const string FileName = ".virttools-sandbox.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>
    /// Writes the marker into <paramref name="rootPath"/>; O_CREAT|O_EXCL, so it never follows a planted symlink nor
    /// overwrites another sandbox's marker.
    /// </summary>
    public static SandboxMarker Create(string rootPath, string source)
    {
        var marker = new SandboxMarker(Guid.NewGuid(), source, DateTimeOffset.UtcNow);
        using var stream = new FileStream(Path.Combine(rootPath, FileName), FileMode.CreateNew, FileAccess.Write);
        JsonSerializer.Serialize(stream, marker, Json);
        return marker;
    }

    /// <summary>The marker of the tree at <paramref name="rootPath"/>; null when there is none, it is a symlink, or unreadable.</summary>
    public static SandboxMarker? TryRead(string rootPath)
    {
        var path = Path.Combine(rootPath, FileName);
        try
        {
            var file = new FileInfo(path);
            if (!file.Exists || file.LinkTarget is not null) return null;
            return JsonSerializer.Deserialize<SandboxMarker>(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException) { return null; }
    }
}
