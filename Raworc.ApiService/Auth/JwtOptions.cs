using System.ComponentModel.DataAnnotations;

namespace Raworc.ApiService.Auth;

/// <summary>
/// Token settings, section <c>Jwt</c>. The AppHost passes the signing key from its secret parameter
/// <c>jwt-signing-key</c> as <c>Jwt__SigningKey</c>. A missing or short key stops start-up.
/// </summary>
public sealed class JwtOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Jwt";

    /// <summary>Smallest accepted signing key, in UTF-8 bytes (256 bits, the HS256 key size).</summary>
    public const int MinKeyBytes = 32;

    /// <summary>HMAC-SHA256 key; at least <see cref="MinKeyBytes"/> bytes of UTF-8.</summary>
    [Required(ErrorMessage = "Jwt:SigningKey is required (the AppHost parameter jwt-signing-key).")]
    public string SigningKey { get; set; } = "";

    /// <summary>The <c>iss</c> written and required.</summary>
    [Required]
    public string Issuer { get; set; } = "raworc";

    /// <summary>The <c>aud</c> written and required.</summary>
    [Required]
    public string Audience { get; set; } = "raworc-api";

    /// <summary>Default token lifetime (24 h).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Seconds an operator row read for the authentication check is reused (<see cref="PrincipalCache"/>), 0 to read it on
    /// every request; default 5. Changes made through the API invalidate it at once; this bounds what a lost Redis message
    /// to another replica, or a change made in the database by hand, can take to be seen.
    /// </summary>
    [Range(0, 300)]
    public int PrincipalCacheSeconds { get; set; } = 5;
}
